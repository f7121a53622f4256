using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Adaptive;
using Sluice.Gate;
using Sluice.Options;
using Sluice.Telemetry;

namespace Sluice.Dispatch;

/// <summary>The in-process dispatcher. One job's life is <see cref="RunCoreAsync"/>, a loop documented step by step.</summary>
internal sealed partial class LocalDispatcher : SluiceDispatcher
{
    private readonly SluiceGate _gate;
    private readonly DispatcherOptions _options;
    private readonly TimeProvider _time;
    private readonly SluiceMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Random _random;
    private readonly CancellationTokenSource _drain = new();
    // Keyed by the partition itself, weakly: a partition the gate removes (idle, or never held: refused at a full gate)
    // takes its retry budget and throttle floor with it, so these tables are bounded by the gate's.
    private readonly ConditionalWeakTable<GatePartition, RetryBudget> _retryBudgets = new();
    private readonly ConditionalWeakTable<GatePartition, ThrottleFloor> _throttleFloors = new();

    public LocalDispatcher(SluiceGate gate, DispatcherOptions options, ILoggerFactory? loggerFactory, Random random)
    {
        OptionsGuard.ThrowIfInvalid(new DispatcherOptionsValidator(), options, nameof(options));
        _gate = gate;
        _options = options.Clone();
        _time = gate.Time;
        _metrics = gate.Metrics;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Sluice.Dispatch");
        _random = random;
    }

    public override bool IsDraining => _drain.IsCancellationRequested;

    public override void Drain()
    {
        if (!_drain.IsCancellationRequested)
        {
            Log.Draining(_logger);
            _drain.Cancel();
        }
    }

    public override ValueTask<JobResult<T>> RunAsync<T>(
        SluiceJob job,
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        CancellationToken cancellationToken = default)
    {
        ValidateJob(job);
        ArgumentNullException.ThrowIfNull(attempt);
        return RunCoreAsync(job, attempt, cancellationToken);
    }

    private static void ValidateJob(SluiceJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentException.ThrowIfNullOrEmpty(job.Id, nameof(job));
        ArgumentException.ThrowIfNullOrEmpty(job.Partition, nameof(job));
        ArgumentOutOfRangeException.ThrowIfNegative(job.EstimatedTokens, nameof(job));
        ArgumentOutOfRangeException.ThrowIfNegative(job.EstimatedInputTokens, nameof(job));
        ArgumentOutOfRangeException.ThrowIfNegative(job.EstimatedOutputTokens, nameof(job));
        if (job.Deadline is { } deadline)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(deadline, TimeSpan.Zero, nameof(job));
        }
    }

    /// <summary>
    /// One job from start to its single end:
    /// 1. wait at the partition (holding nothing) — rejection, cancellation, deadline or drain end the job here;
    /// 2. run one attempt holding the slot, then settle the tokens and release the slot;
    /// 3. act on the outcome: deliver, fail, stop the partition, or go round again — after a throttle at the front
    ///    of the queue once the partition's pause ends; after a transient failure once the backoff and the retry
    ///    budget allow.
    /// </summary>
    private async ValueTask<JobResult<T>> RunCoreAsync<T>(
        SluiceJob job,
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        CancellationToken cancellationToken)
    {
        var partition = _gate.GetPartition(job.Partition);
        var budget = _retryBudgets.GetOrAdd(partition, static (_, self) => new RetryBudget(self._options, self._time), this);
        var floor = _throttleFloors.GetOrAdd(partition, static _ => new ThrottleFloor());
        using var activity = SluiceTelemetry.ActivitySource.StartActivity("sluice.job");
        activity?.SetTag("sluice.job.id", job.Id);
        activity?.SetTag(SluiceMetrics.PartitionTag, job.Partition);

        var run = new JobRun<T>(job, _time.GetTimestamp(), job.Deadline ?? _options.JobDeadline);
        using var deadline = run.Deadline is { } limit ? new CancellationTokenSource(limit, _time) : null;
        var deadlineToken = deadline?.Token ?? CancellationToken.None;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineToken, _drain.Token);
        bool again = false;

        while (true)
        {
            // 1. Wait at the gate.
            GateLease lease;
            try
            {
                lease = await partition.AcquireAsync(new AdmissionRequest(job.EstimatedTokens, job.Priority, AtFront: again)
                {
                    InputTokens = job.EstimatedInputTokens,
                    OutputTokens = job.EstimatedOutputTokens,
                    Tenant = job.Tenant,
                }, waiting.Token)
                    .ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (waiting.IsCancellationRequested)
            {
                return End(run, Interruption(waiting: true, cancellationToken, deadlineToken), activity);
            }

            if (!lease.IsAdmitted)
            {
                var reason = lease.Rejection == GateRejectionReason.Stopped ? JobEndReason.PartitionStopped : JobEndReason.QueueFull;
                return End(run, (JobStatus.NotCompleted, reason, lease.RejectionMessage), activity);
            }

            // 2. One attempt, holding the slot (unless the attempt takes the lease over, as a streamed answer does);
            //    a slow one may be hedged (LocalDispatcher.Tail.cs), and then the winning try's lease is the one used.
            AttemptOutcome<T> outcome;
            bool timedOut;
            var context = new AttemptContext(job, run.Attempts + run.Throttles + 1, partition, lease);
            var winner = context;
            try
            {
                if (run.Attempts == 0 && run.Throttles == 0)
                {
                    budget.Deposit();
                }

                var tried = await TryAsync(run, attempt, context, budget, cancellationToken, deadlineToken).ConfigureAwait(false);
                winner = tried.Winner;
                if (tried.Interrupted is { } ending)
                {
                    return End(run, ending, activity);
                }

                outcome = tried.Outcome;
                timedOut = tried.TimedOut;
                if (!winner.LeaseTaken)
                {
                    Settle(winner.Lease, outcome);
                }

                run.Record(outcome);
                bool waitStated = outcome.Kind != AttemptOutcomeKind.Throttled || outcome.RetryAfter is not null;
                var inferredPause = partition.RecordOutcome(winner.Lease, SignalOf(outcome), waitStated);

                // Pause or stop the partition while still holding the slot: releasing it admits the next waiter, which
                // must find the partition already paused or stopped, not be sent straight into the 429 or the quota.
                switch (outcome.Kind)
                {
                    case AttemptOutcomeKind.Throttled when outcome.RetryAfter > _options.MaxThrottlePause:
                        // Hours of waiting is a daily limit, not a blip: park the partition and say so, rather than
                        // sleeping silently. Its jobs stay pending for a later run.
                        partition.Stop($"parked: the provider asked to wait {outcome.RetryAfter}, longer than the {_options.MaxThrottlePause} Sluice waits; run again later");
                        break;

                    case AttemptOutcomeKind.Throttled when !waitStated:
                        // No Retry-After: the partition inferred the wait from what it knows of the limiter. The 429
                        // still counts towards the floor, should the next one state a wait too short.
                        floor.Throttled(winner.Lease.AdmittedAt, _time.GetTimestamp());
                        CountThrottle(run, inferredPause);
                        break;

                    case AttemptOutcomeKind.Throttled:
                        PausePartition(run, partition, outcome.RetryAfter, floor.Throttled(winner.Lease.AdmittedAt, _time.GetTimestamp()));
                        break;

                    case AttemptOutcomeKind.Success:
                        floor.Succeeded();
                        break;

                    case AttemptOutcomeKind.QuotaExhausted:
                        partition.Stop($"quota exhausted: {outcome.Error}");
                        break;

                    case AttemptOutcomeKind.AuthFailed:
                        partition.Stop($"credentials rejected: {outcome.Error}");
                        break;
                }
            }
            finally
            {
                if (context.OwnsLease)
                {
                    lease.Dispose();
                }

                if (winner != context && winner.OwnsLease)
                {
                    winner.Lease.Dispose();
                }
            }

            // 3. Act on the outcome.
            switch (outcome.Kind)
            {
                case AttemptOutcomeKind.Success:
                    return End(run, (JobStatus.Succeeded, JobEndReason.None, null), activity);

                case AttemptOutcomeKind.Permanent when outcome.SpendCapReached:
                    return End(run, (JobStatus.NotCompleted, JobEndReason.SpendCapReached, outcome.Error), activity);

                case AttemptOutcomeKind.Permanent:
                    return End(run, (JobStatus.Failed, JobEndReason.Permanent, outcome.Error), activity);

                case AttemptOutcomeKind.QuotaExhausted:
                    return End(run, (JobStatus.NotCompleted, JobEndReason.QuotaExhausted, outcome.Error), activity);

                case AttemptOutcomeKind.AuthFailed:
                    return End(run, (JobStatus.NotCompleted, JobEndReason.AuthFailed, outcome.Error), activity);

                case AttemptOutcomeKind.Throttled when outcome.RetryAfter > _options.MaxThrottlePause:
                    return End(run, (JobStatus.NotCompleted, JobEndReason.Parked, $"the provider asked to wait {outcome.RetryAfter}: {outcome.Error}"), activity);

                case AttemptOutcomeKind.Throttled:
                    break;

                default:
                    if (run.Attempts >= _options.MaxAttempts)
                    {
                        return End(run, (JobStatus.Failed, JobEndReason.AttemptsExhausted, outcome.Error), activity);
                    }

                    // Back off holding no slot (briefly when nobody else waits: TailTiming), then take a retry from the
                    // partition's budget.
                    var backoff = RetryBackoff.TransientDelay(run.Attempts, _options.BaseRetryDelay, _options.MaxRetryDelay, _options.RetryJitter, NextRandom(), outcome.RetryAfter);
                    bool shortenable = TailTiming.RetryDelay(_options, backoff, idle: true, outcome.Overloaded, timedOut, outcome.RetryAfter) < backoff;
                    _metrics.Retried.Add(1, new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, job.Partition));
                    if (shortenable)
                    {
                        Log.RetryScheduledUnlessIdle(_logger, job.Id, run.Attempts, outcome.Error ?? "failed", backoff);
                    }
                    else
                    {
                        Log.RetryScheduled(_logger, job.Id, run.Attempts, outcome.Error ?? "failed", backoff);
                    }

                    try
                    {
                        await BackOffAsync(partition, job.EstimatedTokens, backoff, shortenable, waiting.Token).ConfigureAwait(false);
                        await budget.WithdrawAsync(waiting.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (waiting.IsCancellationRequested)
                    {
                        return End(run, Interruption(waiting: true, cancellationToken, deadlineToken), activity);
                    }

                    break;
            }

            again = true;
        }
    }

    /// <summary>
    /// Runs one attempt under <paramref name="limit"/>. An exception or a timeout is a transient outcome; the caller's
    /// cancellation or the deadline ends the job; <paramref name="abandon"/> (another try answered first) ends this one.
    /// A success's duration teaches the partition's <paramref name="latencies"/>.
    /// </summary>
    private async ValueTask<AttemptResult<T>> AttemptAsync<T>(
        JobRun<T> run,
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<T>>> attempt,
        AttemptContext context,
        TimeSpan? limit,
        LatencyTracker latencies,
        CancellationToken cancellationToken,
        CancellationToken deadlineToken,
        CancellationToken abandon)
    {
        using var activity = SluiceTelemetry.ActivitySource.StartActivity("sluice.attempt");
        activity?.SetTag("sluice.attempt.number", context.Attempt);
        using var timeout = limit is { } span ? new CancellationTokenSource(span, _time) : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(
            [cancellationToken, deadlineToken, timeout?.Token ?? CancellationToken.None, abandon]);
        long started = _time.GetTimestamp();
        AttemptOutcome<T> outcome;
        bool timedOut = false;
        Task<AttemptOutcome<T>>? running = null;
        try
        {
            var pending = attempt(context, linked.Token);

            // An attempt that ignores its token is abandoned when the token fires — its timeout, a hedge that won, the
            // caller, the job's deadline — not awaited for ever.
            bool canBeCut = timeout is not null || abandon.CanBeCanceled || cancellationToken.CanBeCanceled || deadlineToken.CanBeCanceled;
            if (pending.IsCompleted || !canBeCut)
            {
                outcome = await pending.ConfigureAwait(false);
            }
            else
            {
                running = pending.AsTask();
                outcome = await running.WaitAsync(linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The job no longer waits for this try: its slot is freed even if the try took its lease over (a stream whose
            // headers had come; now, or by a late take the job's own release then covers), and whatever it answers later
            // is let go as it arrives. A lease not taken is released as usual, after the outcome is recorded.
            context.Abandon();
            if (context.LeaseTaken)
            {
                context.Lease.Dispose();
            }

            if (running is { IsCompleted: false })
            {
                _ = DiscardLateAsync(running);
            }

            if (cancellationToken.IsCancellationRequested || deadlineToken.IsCancellationRequested)
            {
                activity?.SetStatus(ActivityStatusCode.Error, "interrupted");
                return new(default, Interruption(waiting: false, cancellationToken, deadlineToken), false);
            }

            timedOut = !abandon.IsCancellationRequested;
            outcome = timedOut
                ? AttemptOutcome.Overloaded<T>($"attempt timed out after {limit}")
                : AttemptOutcome.Transient<T>("abandoned: another try of the job answered first");
        }
#pragma warning disable CA1031 // An attempt is caller code: whatever it throws is one failed try, not the end of the job.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            outcome = AttemptOutcome.Transient<T>($"{exception.GetType().Name}: {exception.Message}", exception: exception);
        }

        string kind = outcome.Kind.ToString();
        activity?.SetTag("sluice.attempt.outcome", kind);
        if (outcome.Kind != AttemptOutcomeKind.Success)
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        var elapsed = _time.GetElapsedTime(started);
        if (outcome.Kind == AttemptOutcomeKind.Success)
        {
            latencies.Record(elapsed);
        }

        _metrics.AttemptDuration.Record(
            elapsed.TotalSeconds,
            new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, run.Job.Partition),
            new KeyValuePair<string, object?>("sluice.attempt.outcome", kind));
        return new(outcome, null, timedOut);
    }

    /// <summary>Lets go of what an abandoned try produces once it ends: its value (a response, say) is disposed.</summary>
    private static async Task DiscardLateAsync<T>(Task<AttemptOutcome<T>> late)
    {
        try
        {
            var outcome = await late.ConfigureAwait(false);
            (outcome.Value as IDisposable)?.Dispose();
        }
#pragma warning disable CA1031 // Nobody waits for this try any more: whatever it throws has nowhere to go.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>
    /// Pauses the whole partition for the provider's Retry-After, never less than the partition's
    /// <see cref="ThrottleFloor"/> (a stated zero would send the next try at once), plus a little jitter.
    /// </summary>
    private void PausePartition<T>(JobRun<T> run, GatePartition partition, TimeSpan? retryAfter, TimeSpan floor)
    {
        var pause = RetryBackoff.Delay(run.Throttles, _options.BaseRetryDelay, _options.MaxThrottlePause, jitter: 0, random01: 0, retryAfter);
        if (pause > _options.MaxThrottlePause)
        {
            pause = _options.MaxThrottlePause;
        }

        if (pause < floor)
        {
            pause = floor;
        }

        pause += TimeSpan.FromTicks((long)(Math.Min(TimeSpan.TicksPerSecond, pause.Ticks * _options.ThrottleJitter) * NextRandom()));
        CountThrottle(run, pause);
        if (pause > TimeSpan.Zero)
        {
            partition.PauseUntil(_time.GetUtcNow() + pause);
        }
    }

    private void CountThrottle<T>(JobRun<T> run, TimeSpan pause)
    {
        _metrics.Throttled.Add(1, new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, run.Job.Partition));
        Log.AttemptThrottled(_logger, run.Job.Id, run.Attempts + run.Throttles, run.Job.Partition, pause);
    }

    /// <summary>Settles each token dimension the outcome reports; a dimension it does not report keeps its reservation.</summary>
    private static void Settle<T>(GateLease lease, AttemptOutcome<T> outcome)
    {
        if (outcome.ActualTokens is >= 0 and { } total)
        {
            lease.Settle(total);
        }

        if (outcome.ActualInputTokens is >= 0 and { } input)
        {
            lease.Settle(BudgetDimension.InputTokens, input);
        }

        if (outcome.ActualOutputTokens is >= 0 and { } output)
        {
            lease.Settle(BudgetDimension.OutputTokens, output);
        }
    }

    private static PacingSignal SignalOf<T>(AttemptOutcome<T> outcome) => outcome.Kind switch
    {
        AttemptOutcomeKind.Success => PacingSignal.Success,
        AttemptOutcomeKind.Throttled => PacingSignal.Throttled,
        AttemptOutcomeKind.Transient when outcome.Overloaded => PacingSignal.Overloaded,
        _ => PacingSignal.None,
    };

    /// <summary>
    /// How a job ends when something other than an answer ends it. <paramref name="waiting"/> says where it was: waiting
    /// (at the gate, in a partition's pause, in a retry's backoff) or in a try.
    /// </summary>
    private static (JobStatus, JobEndReason, string?) Interruption(bool waiting, CancellationToken cancellationToken, CancellationToken deadlineToken) =>
        cancellationToken.IsCancellationRequested ? (JobStatus.NotCompleted, JobEndReason.Canceled, waiting ? "cancelled by the caller while it waited" : "cancelled by the caller during a try")
        : deadlineToken.IsCancellationRequested ? (JobStatus.Failed, JobEndReason.DeadlineExceeded, waiting ? "the job's deadline passed while it waited" : "the job's deadline passed during a try")
        : (JobStatus.NotCompleted, JobEndReason.Drained, "not started: the dispatcher is draining");

    private JobResult<T> End<T>(JobRun<T> run, (JobStatus Status, JobEndReason Reason, string? Error) ending, Activity? activity)
    {
        var result = run.ToResult(ending.Status, ending.Reason, ending.Error, _time.GetElapsedTime(run.Started));
        var partitionTag = new KeyValuePair<string, object?>(SluiceMetrics.PartitionTag, run.Job.Partition);
        _metrics.JobsCompleted.Add(1, partitionTag, new KeyValuePair<string, object?>("sluice.job.status", ending.Status.ToString()));
        activity?.SetTag("sluice.job.status", ending.Status.ToString());
        if (ending.Status == JobStatus.Failed)
        {
            _metrics.JobsFailed.Add(1, partitionTag, new KeyValuePair<string, object?>("sluice.job.reason", ending.Reason.ToString()));
            activity?.SetStatus(ActivityStatusCode.Error, result.Error);
            Log.JobFailed(_logger, run.Job.Id, result.Attempts, ending.Reason, result.Error ?? "failed");
        }
        else if (ending.Status == JobStatus.NotCompleted)
        {
            Log.JobNotCompleted(_logger, run.Job.Id, ending.Reason);
        }

        return result;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _drain.Dispose();
        }
    }

    private double NextRandom()
    {
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
