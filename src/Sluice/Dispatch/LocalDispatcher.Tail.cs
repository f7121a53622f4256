using Sluice.Gate;
using Sluice.Telemetry;

namespace Sluice.Dispatch;

/// <summary>
/// The tail of a batch (docs/dispatcher.md, "The tail"): one try of a job under a timeout learned from the partition's
/// latencies, hedged when it runs slow while the partition is idle, and a retry's backoff cut short once nobody else
/// waits — so the last requests do not wait out a hung try or a long backoff while the budget idles.
/// </summary>
internal sealed partial class LocalDispatcher
{
    // Keyed weakly by the partition, as the retry budgets are: a partition the gate removes takes its latencies with it.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<GatePartition, LatencyTracker> _latencies = new();

    private LatencyTracker LatenciesOf(GatePartition partition) => _latencies.GetOrAdd(partition, static _ => new LatencyTracker());

    /// <summary>
    /// Runs one try, and past the partition's slow quantile a second one beside it if <see cref="TryAdmitHedge"/>
    /// allows. The first answer wins and the other try is cancelled — except a transient failure of the slow first try,
    /// which yields to the hedge, since that one is already the retry. (A transient failure of the hedge ends the race:
    /// the first try is the one that hangs, and a retry after a short backoff beats waiting for its timeout.) The
    /// loser's value is disposed when it is <see cref="IDisposable"/>, and its lease released. Returns the winning
    /// try's outcome and context.
    /// </summary>
    private async ValueTask<TryResult<T>> TryAsync<T>(
        JobRun<T> run,
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        AttemptContext context,
        RetryBudget budget,
        CancellationToken cancellationToken,
        CancellationToken deadlineToken)
    {
        var latencies = LatenciesOf(context.Partition);
        var slow = latencies.Quantile(TailTiming.SlowQuantile);
        var (timeout, learned) = TailTiming.Timeout(_options, slow, run.LearnedTimeoutCut);
        if (TailTiming.HedgeDelay(_options, slow, run.Attempts, timeout) is not { } hedgeAfter)
        {
            var only = await AttemptAsync(run, attempt, context, timeout, latencies, cancellationToken, deadlineToken, CancellationToken.None).ConfigureAwait(false);
            return Ended(run, only, context, learned);
        }

        using var primaryStop = new CancellationTokenSource();
        var primary = AttemptAsync(run, attempt, context, timeout, latencies, cancellationToken, deadlineToken, primaryStop.Token).AsTask();
        if (await AdmitHedgeWhileSlowAsync(run, primary, context.Partition, budget, hedgeAfter, cancellationToken).ConfigureAwait(false) is not { } hedgeLease)
        {
            return Ended(run, await primary.ConfigureAwait(false), context, learned);
        }

        var hedgeContext = new AttemptContext(run.Job, context.Attempt + 1, context.Partition, hedgeLease);
        using var hedgeStop = new CancellationTokenSource();
        var hedge = AttemptAsync(run, attempt, hedgeContext, timeout, latencies, cancellationToken, deadlineToken, hedgeStop.Token).AsTask();

        bool primaryFirst = await Task.WhenAny(primary, hedge).ConfigureAwait(false) == primary;
        var (first, firstContext) = primaryFirst ? (await primary.ConfigureAwait(false), context) : (await hedge.ConfigureAwait(false), hedgeContext);
        var (other, otherContext, otherStop) = primaryFirst ? (hedge, hedgeContext, hedgeStop) : (primary, context, primaryStop);
        // The slow first try's transient failure yields to the hedge; a hedge a spend cap refused was never sent, so the
        // first try, still running, answers for the job.
        if (first.Interrupted is null && (primaryFirst ? first.Outcome.Kind == AttemptOutcomeKind.Transient : first.Outcome.SpendCapReached))
        {
            Discard(first.Outcome, firstContext);
            var second = await other.ConfigureAwait(false);
            return Ended(run, second, otherContext, learned);
        }

        await otherStop.CancelAsync().ConfigureAwait(false);
        _ = DiscardWhenDoneAsync(other, otherContext);
        return Ended(run, first, firstContext, learned);
    }

    /// <summary>
    /// Waits while the try runs past the slow quantile, then looks for room for a hedge — at that moment and at up to
    /// <see cref="TailTiming.TailChecks"/> − 1 further multiples of it, since a partition busy when the try turned slow
    /// may drain while it hangs (the end of a batch). Returns the hedge's lease, or null once the try has answered or
    /// the checks found no room.
    /// </summary>
    private async Task<GateLease?> AdmitHedgeWhileSlowAsync<T>(
        JobRun<T> run,
        Task<AttemptResult<T>> primary,
        GatePartition partition,
        RetryBudget budget,
        TimeSpan hedgeAfter,
        CancellationToken cancellationToken)
    {
        for (int check = 0; check < TailTiming.TailChecks; check++)
        {
            using (var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var slowAt = Task.Delay(hedgeAfter, _time, timer.Token);
                if (await Task.WhenAny(primary, slowAt).ConfigureAwait(false) == primary || slowAt.IsCanceled)
                {
                    await timer.CancelAsync().ConfigureAwait(false);
                    return null;
                }
            }

            if (TryAdmitHedge(run, partition, budget) is { } lease)
            {
                run.CountHedge();
                _metrics.Hedged.Add(1, new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, run.Job.Partition));
                Log.AttemptHedged(_logger, run.Job.Id, run.Attempts, hedgeAfter * (check + 1));
                return lease;
            }
        }

        return null;
    }

    /// <summary>
    /// Admits a hedge only when it takes nothing from anyone: the partition is idle (nobody queued, a slot and budget
    /// free) and the retry budget has a retry to spare, so hedges, like retries, cannot multiply the load.
    /// </summary>
    private static GateLease? TryAdmitHedge<T>(JobRun<T> run, GatePartition partition, RetryBudget budget)
    {
        if (!PartitionRoom.IsIdle(partition, run.Job.EstimatedTokens) || !budget.TryWithdraw())
        {
            return null;
        }

        var lease = partition.TryAcquire(new AdmissionRequest(run.Job.EstimatedTokens, run.Job.Priority) { Tenant = run.Job.Tenant });
        return lease.IsAdmitted ? lease : null;
    }

    private static TryResult<T> Ended<T>(JobRun<T> run, AttemptResult<T> result, AttemptContext context, bool learnedTimeout)
    {
        if (result.TimedOut && learnedTimeout)
        {
            run.LearnedTimeoutCut = true;
        }

        return new TryResult<T>(result.Outcome, result.Interrupted, context, result.TimedOut);
    }

    private static async Task DiscardWhenDoneAsync<T>(Task<AttemptResult<T>> loser, AttemptContext context)
    {
        // AttemptAsync turns every exception into an outcome, and returns once its token fires.
        var result = await loser.ConfigureAwait(false);
        Discard(result.Outcome, context);
    }

    /// <summary>Lets a losing try go: its value (a response, say) is disposed and its slot freed.</summary>
    private static void Discard<T>(AttemptOutcome<T> outcome, AttemptContext context)
    {
        (outcome.Value as IDisposable)?.Dispose();
        if (context.OwnsLease)
        {
            context.Lease.Dispose();
        }
    }

    /// <summary>
    /// Waits out a retry's backoff. When the failure allows it (<paramref name="shortenable"/>), the wait shrinks to
    /// <see cref="TailTiming.IdleBackoffShare"/> of the backoff as soon as the partition is found idle — at the start, or
    /// at one of a few checkpoints on the way, so a retry scheduled while others queued does not sit out its full backoff
    /// once the queue has drained and the budget idles. The checkpoints are bounded (<see cref="TailTiming.TailChecks"/>
    /// a retry), not a poll.
    /// </summary>
    private async Task BackOffAsync(GatePartition partition, long tokens, TimeSpan backoff, bool shortenable, CancellationToken cancellationToken)
    {
        if (!shortenable)
        {
            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            return;
        }

        var brief = TimeSpan.FromTicks((long)(backoff.Ticks * TailTiming.IdleBackoffShare));
        var slice = TimeSpan.FromTicks(Math.Max(1, backoff.Ticks / TailTiming.TailChecks));
        var left = backoff;
        while (left > TimeSpan.Zero)
        {
            if (PartitionRoom.IsIdle(partition, tokens))
            {
                await Task.Delay(left < brief ? left : brief, _time, cancellationToken).ConfigureAwait(false);
                return;
            }

            var wait = left < slice ? left : slice;
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            left -= wait;
        }
    }

    /// <summary>What one call of the attempt came to.</summary>
    private readonly record struct AttemptResult<T>(AttemptOutcome<T> Outcome, (JobStatus, JobEndReason, string?)? Interrupted, bool TimedOut);

    /// <summary>What a try (and its hedge, if one ran) came to, and which of them it was.</summary>
    private readonly record struct TryResult<T>(AttemptOutcome<T> Outcome, (JobStatus, JobEndReason, string?)? Interrupted, AttemptContext Winner, bool TimedOut);
}
