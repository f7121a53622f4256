namespace Sluice.Spend;

/// <summary>
/// One try's money: its worst case reserved in every cap that applies, settled once — to its real cost when its
/// answer ends with usage, to nothing when the provider refused it, to its worst case when it was cut off.
/// </summary>
internal sealed class TrySpend
{
    private readonly JobSpend _job;
    private readonly IReadOnlyList<SpendReservation> _reservations;
    private readonly Action<decimal>? _spent;
    private int _settled;

    /// <param name="job">The request the try belongs to.</param>
    /// <param name="worstCase">The worst case; <see langword="null"/> for a model without a price (no cap applies then).</param>
    /// <param name="reservations">One per cap, each holding <paramref name="worstCase"/>.</param>
    /// <param name="spent">Told the cost once the try settles (the spend counter).</param>
    public TrySpend(JobSpend job, decimal? worstCase, IReadOnlyList<SpendReservation> reservations, Action<decimal>? spent)
    {
        _job = job;
        WorstCase = worstCase;
        _reservations = reservations;
        _spent = spent;
        if (worstCase is { } amount)
        {
            job.Opened(amount);
        }
    }

    public JobSpend Job => _job;

    public decimal? WorstCase { get; }

    public bool IsSettled => Volatile.Read(ref _settled) != 0;

    /// <summary>Settles every reservation to <paramref name="actual"/>; only the first call counts.</summary>
    public void Settle(decimal? actual)
    {
        if (Interlocked.Exchange(ref _settled, 1) != 0 || WorstCase is not { } worst)
        {
            return;
        }

        decimal cost = actual ?? worst;
        foreach (var reservation in _reservations)
        {
            reservation.Settle(cost);
        }

        _job.Closed(worst, cost);
        if (cost > 0)
        {
            _spent?.Invoke(cost);
        }
    }

    /// <summary>The try was cut off (timed out, abandoned, its stream let go unfinished): the provider may bill all of it.</summary>
    public void KeepWorstCase() => Settle(null);
}
