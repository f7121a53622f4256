using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Text;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// What a batch-api run has done, for its progress line and summary: parts by state, lines finished, and what the
/// lines cost at batch prices against what live calls would have cost. Touched by the run's one loop only.
/// </summary>
internal sealed class BatchApiTally
{
    public required int Total { get; init; }

    public required int AlreadyDone { get; init; }

    public int Succeeded { get; set; }

    public int Failed { get; set; }

    public int Resubmitted { get; set; }

    public int PartsSubmitted { get; set; }

    public int PartsInProgress { get; set; }

    public int PartsDone { get; set; }

    /// <summary>Lines the batches in progress have answered so far, from their request counts.</summary>
    public int InBatchesDone { get; set; }

    public decimal Cost { get; private set; }

    public decimal LiveCost { get; private set; }

    public int Unpriced { get; private set; }

    public int Done => AlreadyDone + Succeeded + Failed;

    public void Add(BatchResultLine line)
    {
        if (line.Outcome == BatchLineOutcome.Succeeded)
        {
            Succeeded++;
        }
        else
        {
            Failed++;
        }

        if (line.Cost is { } cost && line.LiveCost is { } live)
        {
            Cost += cost;
            LiveCost += live;
        }
        else if (line.Tokens > 0)
        {
            Unpriced++;
        }
    }

    /// <summary>The progress line; the ETA extrapolates the lines done so far in this run over the time it took.</summary>
    public string Progress(TimeSpan elapsed)
    {
        int doneNow = Succeeded + Failed + InBatchesDone;
        int left = Math.Max(0, Total - AlreadyDone - doneNow);
        string eta = doneNow > 0 && left > 0 ? $"; ETA {DurationText.Format(TimeSpan.FromSeconds(Math.Ceiling(elapsed.TotalSeconds * left / doneNow)))}" : "";
        return string.Create(CultureInfo.InvariantCulture, $"batches: {PartsSubmitted} submitted, {PartsInProgress} in progress, {PartsDone} done; {Math.Min(Total, Done + InBatchesDone):N0}/{Total:N0} lines done{eta}");
    }

    /// <summary>The cost at batch prices and the saving against live calls, when prices are known.</summary>
    public string Costs()
    {
        if (Succeeded + Failed == 0)
        {
            return "nothing new paid";
        }

        string unpriced = Unpriced > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({Unpriced:N0} lines of models without a price not counted)") : "";
        decimal saved = LiveCost - Cost;
        string share = LiveCost > 0 ? string.Create(CultureInfo.InvariantCulture, $" ({saved / LiveCost:P0})") : "";
        return $"cost {SpendAmountText.Format(Cost)} at batch prices; as live calls {SpendAmountText.Format(LiveCost)}: saved {SpendAmountText.Format(saved)}{share}{unpriced}";
    }
}
