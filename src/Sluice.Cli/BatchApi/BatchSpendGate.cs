using System.Diagnostics;
using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// <c>--max-spend</c> for a batch-api run: a part reserves its worst case at batch prices in one
/// <see cref="SpendCap"/> (the cap less what earlier runs of the journal spent) before it is submitted, and settles to
/// what its lines really cost once its results are in; so settled plus reserved never passes the cap. The first part
/// refused stops submission for the rest of the run: the parts in flight are collected, nothing more is sent.
/// Touched by the run's one loop only.
/// </summary>
internal sealed class BatchSpendGate(decimal maxSpend, decimal earlierSpent, TimeProvider time)
{
    private readonly SpendCap _cap = new(Math.Max(0, maxSpend - earlierSpent), SpendWindow.Total, time) { Name = "--max-spend" };
    private readonly Dictionary<int, SpendReservation> _reserved = [];

    /// <summary>The cap as it stood when a part was refused; null while none was.</summary>
    public SpendCapSnapshot? StoppedAt { get; private set; }

    /// <summary>
    /// Reserves part <paramref name="partNumber"/>'s worst case, unless that would pass the cap or a part was refused
    /// already (parts go in order: a smaller later one does not jump the queue). A worst case not known (a line's model
    /// without a price) is refused.
    /// </summary>
    public bool TryReserve(int partNumber, decimal? worstCase)
    {
        if (StoppedAt is not null)
        {
            return false;
        }

        if (_reserved.ContainsKey(partNumber))
        {
            return true;
        }

        if (worstCase is not { } amount || !_cap.TryReserve(amount, out var reservation))
        {
            StoppedAt = _cap.GetSnapshot();
            return false;
        }

        _reserved[partNumber] = reservation;
        Debug.Assert(_cap.GetSnapshot() is var s && s.Settled + s.Reserved <= s.Limit, "a reservation never takes the cap past its limit");
        return true;
    }

    /// <summary>Replaces part <paramref name="partNumber"/>'s reservation with what its lines cost at batch prices.</summary>
    public void Settle(int partNumber, decimal actual)
    {
        if (_reserved.Remove(partNumber, out var reservation))
        {
            reservation.Settle(actual);
        }
    }

    /// <summary>The summary's reason for a run stopped by the cap: the cap, what was spent and reserved, what is left.</summary>
    public string StopReason(int linesLeft)
    {
        var stop = StoppedAt ?? _cap.GetSnapshot();
        string earlier = earlierSpent > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({SpendAmountText.Format(earlierSpent)} of it by earlier runs)") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"the spend cap {SpendAmountText.Format(maxSpend)} is reached: when the next batch's worst case at batch prices would have passed it, " +
            $"{SpendAmountText.Format(earlierSpent + stop.Settled)} was spent{earlier} and {SpendAmountText.Format(stop.Reserved)} reserved by batches in flight " +
            $"(now {SpendAmountText.Format(earlierSpent + _cap.GetSnapshot().Settled)} spent); {linesLeft:N0} lines left");
    }
}
