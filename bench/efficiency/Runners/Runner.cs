using Sluice.Efficiency.Scenarios;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// Everything a runner needs for one row: where the limiter is, what to send (also as a batch file), where to count,
/// and a fresh directory for whatever files the row makes.
/// </summary>
internal sealed record RunContext(Uri BaseUrl, Scenario Scenario, Workload Workload, ClientTally Tally, int Seed, string BatchFile, string Directory);

/// <summary>One way of sending a batch: a row of the table.</summary>
internal abstract class Runner
{
    /// <summary>The name <c>--runner</c> matches.</summary>
    public abstract string Key { get; }

    /// <summary>The name in the table.</summary>
    public abstract string DisplayName { get; }

    /// <summary>Whether the targets apply to this row (they are Sluice's targets, not the baselines').</summary>
    public virtual bool IsSluice => false;

    /// <summary>Whether this row knows the budget in advance.</summary>
    public virtual bool KnowsBudget => false;

    /// <summary>
    /// Whether the row's attempts go through <see cref="AttemptCounter"/> in this process; a runner in a process of
    /// its own does not, and its retries are counted from the limiter's side.
    /// </summary>
    public virtual bool CountsAttemptsOnClient => true;

    /// <summary>Gets the runner ready once before any row (builds, installs); nothing by default.</summary>
    public virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Sends the whole batch and returns when every request has ended, counting each request's end in the context's
    /// tally (attempts are counted by <see cref="AttemptCounter"/>). The row's lost = requests − succeeded.
    /// Cancellation means the row's time cap was reached: requests not ended by then are lost, and counted as unfinished.
    /// </summary>
    public abstract Task RunAsync(RunContext context, CancellationToken cancellationToken);
}
