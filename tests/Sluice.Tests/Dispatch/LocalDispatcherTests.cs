using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class LocalDispatcherTests
{
    private static readonly TimeSpan OneMs = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    // ---- Throttled: pause the whole partition, go again at the front, use no attempt.

    [Fact]
    public async Task RunAsync_WhenThrottled_PausesPartitionAndDoesNotUseAnAttempt()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 1 });
        var first = Step.Hold();
        h.Upstream.Script("A", first, Step.Returns(AttemptOutcome.Success("A-ok")));
        var a = h.Run("A");
        await first.WhenStarted.DefaultTimeout();
        var b = h.Run("B");
        await TestWait.Eventually(() => h.Snapshot().Queued == 1, "B queued behind A");
        var throttledAt = h.Now;

        first.Complete(AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(10)));
        await h.SettleAsync();

        Assert.Equal(throttledAt + TimeSpan.FromSeconds(10), h.Snapshot().PausedUntil);
        Assert.Empty(h.Upstream.CallsFor("B"));

        // Another partition is not paused: its job runs while the clock stands still.
        var other = await h.Run("C", "b").DefaultTimeout();
        Assert.True(other.IsSuccess);

        await h.AdvanceAsync(TimeSpan.FromSeconds(10) - OneMs);
        Assert.Single(h.Upstream.CallsFor("A"));
        Assert.Empty(h.Upstream.CallsFor("B"));

        h.Advance(OneMs);
        var resultA = await a.DefaultTimeout();
        var resultB = await b.DefaultTimeout();

        Assert.Equal(JobStatus.Succeeded, resultA.Status);
        Assert.Equal("A-ok", resultA.Value);
        Assert.Equal(1, resultA.Attempts);
        Assert.Equal(1, resultA.Throttles);
        var again = h.Upstream.CallsFor("A")[1];
        Assert.Equal(throttledAt + TimeSpan.FromSeconds(10), again.At);
        Assert.Equal(2, again.Attempt);
        var callB = Assert.Single(h.Upstream.CallsFor("B"));
        Assert.True(callB.Index > again.Index, "the throttled job goes again ahead of the job that was waiting");
        Assert.Equal(throttledAt + TimeSpan.FromSeconds(10), callB.At);
        Assert.True(resultB.IsSuccess);
    }

    [Fact]
    public async Task RunAsync_WhenThrottledRepeatedly_KeepsItsAttemptsForRealFailures()
    {
        using var h = new DispatchHarness(configure: o => o.MaxAttempts = 1);
        var throttled = Step.Returns(AttemptOutcome.Throttled<string>(OneSecond));
        h.Upstream.Script("A", throttled, throttled, throttled, Step.Returns(AttemptOutcome.Success("A-ok")));

        var result = await h.Driver.RunUntilAsync(h.Run("A"), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(3, result.Throttles);
        Assert.Equal([1, 2, 3, 4], h.Upstream.CallsFor("A").Select(c => c.Attempt));
    }

    [Fact]
    public async Task RunAsync_WhenThrottled_PausesForRetryAfterPlusAtMostTheThrottleJitter()
    {
        using var h = new DispatchHarness(configure: o => o.ThrottleJitter = 0.1);
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(5))), Step.Returns(AttemptOutcome.Success("ok")));
        var start = h.Now;

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Snapshot().PausedUntil is not null, "the partition paused");

        Assert.InRange(h.Snapshot().PausedUntil!.Value - start, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5.5));
        await h.Driver.RunUntilAsync(a, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task RunAsync_WhenThrottledPastTheDeadline_FailsWithDeadlineExceeded()
    {
        using var h = new DispatchHarness(configure: o => o.JobDeadline = TimeSpan.FromSeconds(5));
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromMinutes(1))), Step.Returns(AttemptOutcome.Success("late")));
        var a = h.Run("A");
        await TestWait.Eventually(() => h.Snapshot().Queued == 1, "A waiting out the pause");

        await h.AdvanceAsync(TimeSpan.FromSeconds(5) - OneMs);
        Assert.False(a.IsCompleted);
        h.Advance(OneMs);
        var result = await a.DefaultTimeout();

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        Assert.Equal(1, result.Throttles);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.Single(h.Upstream.CallsFor("A"));
    }

    // ---- Transient: capped exponential backoff, a retry budget, then give up.

    [Fact]
    public async Task RunAsync_WhenTransientFailuresPersist_BacksOffExponentiallyAndGivesUpAfterMaxAttempts()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.MaxAttempts = 3;
            o.BaseRetryDelay = OneSecond;
        });
        h.Upstream.Script(
            "A",
            Step.Returns(AttemptOutcome.Transient("503 #1", value: "body-1")),
            Step.Returns(AttemptOutcome.Transient("503 #2", value: "body-2")),
            Step.Returns(AttemptOutcome.Transient("503 #3", value: "body-3")),
            Step.Returns(AttemptOutcome.Success("never")));
        var start = h.Now;

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Upstream.CallsFor("A").Count == 1, "first attempt");
        await h.AdvanceAsync(OneSecond - OneMs);
        Assert.Single(h.Upstream.CallsFor("A"));
        h.Advance(OneMs);
        await TestWait.Eventually(() => h.Upstream.CallsFor("A").Count == 2, "first retry after 1 s");
        await h.AdvanceAsync((2 * OneSecond) - OneMs);
        Assert.Equal(2, h.Upstream.CallsFor("A").Count);
        h.Advance(OneMs);
        var result = await a.DefaultTimeout();

        Assert.Equal([start, start + OneSecond, start + (3 * OneSecond)], h.Upstream.CallsFor("A").Select(c => c.At));
        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Equal(3, result.Attempts);
        Assert.Equal("503 #3", result.Error);
        Assert.Equal("body-3", result.Value);

        await h.AdvanceAsync(TimeSpan.FromMinutes(5));
        Assert.Equal(3, h.Upstream.CallsFor("A").Count);
    }

    [Fact]
    public async Task RunAsync_WhenTransientThenSuccess_SucceedsCountingBothAttempts()
    {
        using var h = new DispatchHarness(configure: o => o.BaseRetryDelay = OneSecond);
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Transient<string>("502")), Step.Returns(AttemptOutcome.Success("A-ok")));

        var result = await h.Driver.RunUntilAsync(h.Run("A"), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal("A-ok", result.Value);
        Assert.Null(result.Error);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(0, result.Throttles);
    }

    [Fact]
    public async Task RunAsync_WithRetryJitter_SpreadsRetriesWithinTheJitterBand()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.BaseRetryDelay = TimeSpan.FromSeconds(4);
            o.RetryJitter = 0.5;
        });
        var ids = Enumerable.Range(0, 8).Select(i => $"J{i}").ToList();
        foreach (var id in ids)
        {
            h.Upstream.Script(id, Step.Returns(AttemptOutcome.Transient<string>("500")), Step.Returns(AttemptOutcome.Success(id)));
        }

        var step = TimeSpan.FromMilliseconds(10);
        await h.Driver.RunUntilAsync(Task.WhenAll(ids.Select(id => h.Run(id))), step, TimeSpan.FromHours(1));

        var gaps = ids.Select(id => h.Upstream.CallsFor(id) is [var first, var second] ? second.At - first.At : TimeSpan.MinValue).ToList();
        Assert.All(gaps, gap => Assert.InRange(gap, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4) + step));
        Assert.True(gaps.Distinct().Count() > 1, "jitter made every retry wait the same time");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3_000)]
    public async Task RunAsync_WhenTransientSaysRetryAfterZero_StillWaitsTheBackoff(int retryAfterMs)
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.BaseRetryDelay = OneSecond;
            o.MaxAttempts = 3;
        });
        var now = Step.Returns(AttemptOutcome.Transient<string>("503", retryAfter: TimeSpan.FromMilliseconds(retryAfterMs)));
        h.Upstream.Script("A", now, now, Step.Returns(AttemptOutcome.Success("ok")));
        var start = h.Now;

        var result = await h.Driver.RunUntilAsync(h.Run("A"), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));

        Assert.True(result.IsSuccess);
        Assert.Equal([start, start + OneSecond, start + TimeSpan.FromSeconds(3)], h.Upstream.CallsFor("A").Select(c => c.At));
    }

    [Fact]
    public async Task RunAsync_WhenTransientCarriesRetryAfter_WaitsThatLongInsteadOfTheBackoff()
    {
        using var h = new DispatchHarness(configure: o => o.BaseRetryDelay = OneSecond);
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Transient<string>("503", retryAfter: TimeSpan.FromSeconds(7))), Step.Returns(AttemptOutcome.Success("ok")));
        var start = h.Now;

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 1, "first attempt");
        await h.AdvanceAsync(TimeSpan.FromSeconds(7) - OneMs);
        Assert.Single(h.Upstream.Calls);
        h.Advance(OneMs);
        await a.DefaultTimeout();

        Assert.Equal(start + TimeSpan.FromSeconds(7), h.Upstream.CallsFor("A")[1].At);
    }

    [Fact]
    public async Task RunAsync_WhenRetryBudgetIsSpent_RetryWaitsForTheTrickle()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.BaseRetryDelay = OneSecond;
            o.RetryBudgetRatio = 0;
            o.MinRetriesPerSecond = 0.1;
            o.RetryBudgetBurst = 1;
        });
        foreach (var id in new[] { "A", "B" })
        {
            h.Upstream.Script(id, Step.Returns(AttemptOutcome.Transient<string>("500")), Step.Returns(AttemptOutcome.Success(id)));
        }

        var start = h.Now;
        var jobs = Task.WhenAll(h.Run("A"), h.Run("B"));
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 2, "both first attempts");
        h.Advance(OneSecond);
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 3, "one retry from the burst");
        await h.AdvanceAsync(TimeSpan.FromSeconds(10) - OneMs);
        Assert.Equal(3, h.Upstream.Calls.Count);
        h.Advance(OneMs);
        await jobs.DefaultTimeout();

        Assert.Equal([start + OneSecond, start + TimeSpan.FromSeconds(11)], h.Upstream.Calls.Skip(2).Select(c => c.At));
    }

    [Fact]
    public async Task RunAsync_WhileWaitingToRetry_HoldsNoConcurrencySlot()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 1 }, o => o.BaseRetryDelay = TimeSpan.FromSeconds(10));
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Transient<string>("503")), Step.Returns(AttemptOutcome.Success("A-ok")));

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Upstream.CallsFor("A").Count == 1, "A's first attempt");
        var b = await h.Run("B").DefaultTimeout();

        Assert.True(b.IsSuccess);
        Assert.Equal(h.Upstream.CallsFor("A")[0].At, h.Upstream.CallsFor("B")[0].At);
        Assert.False(a.IsCompleted);
        h.Advance(TimeSpan.FromSeconds(10));
        var resultA = await a.DefaultTimeout();
        Assert.Equal(2, resultA.Attempts);
        Assert.True(resultA.IsSuccess);
    }

    [Fact]
    public async Task RunAsync_WhenAttemptThrows_TreatsItAsTransient()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.MaxAttempts = 2;
            o.BaseRetryDelay = OneSecond;
        });
        var reset = new IOException("connection reset by peer");
        var refused = new HttpRequestException("connection refused");
        h.Upstream.Script("A", Step.Throws(reset), Step.Returns(AttemptOutcome.Success("A-ok")));
        h.Upstream.Script("B", Step.Faults(refused));

        var results = await h.Driver.RunUntilAsync(Task.WhenAll(h.Run("A"), h.Run("B")), TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));

        Assert.Equal(JobStatus.Succeeded, results[0].Status);
        Assert.Equal(2, results[0].Attempts);
        Assert.Equal(JobStatus.Failed, results[1].Status);
        Assert.Equal(JobEndReason.AttemptsExhausted, results[1].Reason);
        Assert.Equal(2, results[1].Attempts);
        Assert.Same(refused, results[1].Exception);
        Assert.Contains("connection refused", results[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_WhenAttemptTimesOut_RetriesItAsTransient()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.BaseRetryDelay = OneSecond;
        });
        var hung = Step.Hold();
        h.Upstream.Script("A", hung, Step.Returns(AttemptOutcome.Success("A-ok")));
        var start = h.Now;

        var a = h.Run("A");
        await hung.WhenStarted.DefaultTimeout();
        await h.AdvanceAsync(TimeSpan.FromSeconds(5) - OneMs);
        Assert.False(hung.SawCancellation);
        h.Advance(OneMs);
        await TestWait.Eventually(() => hung.SawCancellation, "the attempt's token cancelled at the timeout");
        await h.SettleAsync();
        h.Advance(OneSecond);
        var result = await a.DefaultTimeout();

        Assert.Equal(JobStatus.Succeeded, result.Status);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(start + TimeSpan.FromSeconds(6), h.Upstream.CallsFor("A")[1].At);
    }

    [Fact]
    public async Task RunAsync_WhenEveryAttemptTimesOut_FailsWithTheTimeoutAsTheError()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.BaseRetryDelay = OneSecond;
            o.MaxAttempts = 2;
        });
        h.Upstream.Script("A", Step.Hold());

        var result = await h.Driver.RunUntilAsync(h.Run("A"), TimeSpan.FromMilliseconds(500), TimeSpan.FromHours(1));

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Contains("timed out", result.Error, StringComparison.Ordinal);
    }

    // ---- Permanent: fail at once.

    [Fact]
    public async Task RunAsync_WhenPermanent_FailsAtOnceWithoutRetry()
    {
        using var h = new DispatchHarness();
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Permanent("400 invalid request", value: "{\"error\":\"bad\"}")), Step.Returns(AttemptOutcome.Success("never")));

        var result = await h.Run("A").DefaultTimeout();

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.Permanent, result.Reason);
        Assert.Equal(1, result.Attempts);
        Assert.Equal("400 invalid request", result.Error);
        Assert.Equal("{\"error\":\"bad\"}", result.Value);
        await h.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Single(h.Upstream.CallsFor("A"));
    }

    // ---- Quota and auth: stop the partition, leave its jobs pending.

    [Theory]
    [InlineData(AttemptOutcomeKind.QuotaExhausted, JobEndReason.QuotaExhausted)]
    [InlineData(AttemptOutcomeKind.AuthFailed, JobEndReason.AuthFailed)]
    public async Task RunAsync_WhenQuotaOrAuthFails_StopsPartitionAndLeavesWaitingJobsPending(AttemptOutcomeKind kind, JobEndReason reason)
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 1 });
        var first = Step.Hold();
        h.Upstream.Script("A", first);
        var a = h.Run("A");
        await first.WhenStarted.DefaultTimeout();
        var waiting = new[] { h.Run("B"), h.Run("C") };
        await TestWait.Eventually(() => h.Snapshot().Queued == 2, "B and C queued behind A");

        first.Complete(kind == AttemptOutcomeKind.QuotaExhausted
            ? AttemptOutcome.QuotaExhausted<string>("insufficient_quota")
            : AttemptOutcome.AuthFailed<string>("401 invalid api key"));
        var resultA = await a.DefaultTimeout();
        var results = await Task.WhenAll(waiting).DefaultTimeout();

        Assert.Equal(JobStatus.NotCompleted, resultA.Status);
        Assert.Equal(reason, resultA.Reason);
        Assert.Equal(1, resultA.Attempts);
        Assert.All(results, r =>
        {
            Assert.Equal(JobStatus.NotCompleted, r.Status);
            Assert.Equal(JobEndReason.PartitionStopped, r.Reason);
            Assert.Equal(0, r.Attempts);
            Assert.False(string.IsNullOrEmpty(r.Error));
        });
        Assert.Empty(h.Upstream.CallsFor("B"));
        Assert.Empty(h.Upstream.CallsFor("C"));
        Assert.NotNull(h.Snapshot().StopReason);

        // A latecomer is turned away without running; another partition carries on.
        var late = await h.Run("D").DefaultTimeout();
        Assert.Equal(JobEndReason.PartitionStopped, late.Reason);
        Assert.Empty(h.Upstream.CallsFor("D"));
        Assert.True((await h.Run("E", "b").DefaultTimeout()).IsSuccess);

        // Pending, not failed: once resumed, the same jobs run.
        h.Gate.GetPartition("a").Resume();
        var rerun = await Task.WhenAll(h.Run("B"), h.Run("C"), h.Run("D")).DefaultTimeout();
        Assert.All(rerun, r => Assert.Equal(JobStatus.Succeeded, r.Status));
    }

    // ---- Deadline, cancel, drain.

    [Fact]
    public async Task RunAsync_WhenDeadlinePassesWhileWaitingToRetry_FailsWithDeadlineExceeded()
    {
        using var h = new DispatchHarness(configure: o =>
        {
            o.JobDeadline = TimeSpan.FromSeconds(30);
            o.BaseRetryDelay = TimeSpan.FromSeconds(20);
            o.MaxAttempts = 10;
        });
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Transient<string>("503")));

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 1, "first attempt");
        h.Advance(TimeSpan.FromSeconds(20));
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 2, "retry after 20 s");
        await h.AdvanceAsync(TimeSpan.FromSeconds(10) - OneMs);
        Assert.False(a.IsCompleted);
        h.Advance(OneMs);
        var result = await a.DefaultTimeout();

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        Assert.Equal(2, result.Attempts);
        Assert.Equal(TimeSpan.FromSeconds(30), result.Elapsed);
    }

    [Fact]
    public async Task RunAsync_WhenDeadlinePassesDuringAnAttempt_CancelsItAndFailsWithDeadlineExceeded()
    {
        using var h = new DispatchHarness(configure: o => o.AttemptTimeout = null);
        var hung = Step.Hold();
        h.Upstream.Script("A", hung);

        var a = h.Dispatcher.RunAsync(new SluiceJob("A", "a") { Deadline = TimeSpan.FromSeconds(3) }, h.Upstream.AttemptAsync).AsTask();
        await hung.WhenStarted.DefaultTimeout();
        h.Advance(TimeSpan.FromSeconds(3));
        var result = await a.DefaultTimeout();

        Assert.True(hung.SawCancellation);
        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        Assert.Equal(0, h.Snapshot().InFlight);
    }

    [Fact]
    public async Task RunAsync_WhenCallerCancelsDuringAnAttempt_EndsCanceledWithoutThrowing()
    {
        using var h = new DispatchHarness();
        using var cts = new CancellationTokenSource();
        var hung = Step.Hold();
        h.Upstream.Script("A", hung);

        var a = h.Run("A", cancellationToken: cts.Token);
        await hung.WhenStarted.DefaultTimeout();
        await cts.CancelAsync().DefaultTimeout();
        var result = await a.DefaultTimeout();

        Assert.True(hung.SawCancellation);
        Assert.Equal(JobStatus.NotCompleted, result.Status);
        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Equal(0, h.Snapshot().InFlight);
    }

    [Fact]
    public async Task RunAsync_WhenCallerCancelsWhileQueued_EndsCanceledWithoutRunning()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 1 });
        using var cts = new CancellationTokenSource();
        var holder = Step.Hold();
        h.Upstream.Script("A", holder);
        var a = h.Run("A");
        await holder.WhenStarted.DefaultTimeout();
        var b = h.Run("B", cancellationToken: cts.Token);
        await TestWait.Eventually(() => h.Snapshot().Queued == 1, "B queued");

        await cts.CancelAsync().DefaultTimeout();
        var result = await b.DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Equal(JobStatus.NotCompleted, result.Status);
        Assert.Empty(h.Upstream.CallsFor("B"));
        Assert.Equal(0, h.Snapshot().Queued);
        holder.Complete(AttemptOutcome.Success("A-ok"));
        Assert.True((await a.DefaultTimeout()).IsSuccess);
    }

    [Fact]
    public async Task RunAsync_WhenCallerCancelsWhileWaitingToRetry_EndsCanceledWithTheAttemptsMade()
    {
        using var h = new DispatchHarness(configure: o => o.BaseRetryDelay = TimeSpan.FromMinutes(1));
        using var cts = new CancellationTokenSource();
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Transient<string>("503")));

        var a = h.Run("A", cancellationToken: cts.Token);
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 1, "first attempt");
        await cts.CancelAsync().DefaultTimeout();
        var result = await a.DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Equal(1, result.Attempts);
        await h.AdvanceAsync(TimeSpan.FromMinutes(2));
        Assert.Single(h.Upstream.Calls);
    }

    [Fact]
    public async Task Drain_EndsWaitingJobsDrainedWhileTheInFlightAttemptFinishes()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 1 }, o => o.BaseRetryDelay = TimeSpan.FromMinutes(1));
        var inFlight = Step.Hold();
        h.Upstream.Script("A", inFlight);
        h.Upstream.Script("R", Step.Returns(AttemptOutcome.Transient<string>("503")), Step.Returns(AttemptOutcome.Success("never")));
        var a = h.Run("A");
        await inFlight.WhenStarted.DefaultTimeout();
        var queued = h.Run("B");
        var retrying = h.Run("R", "b");
        await TestWait.Eventually(() => h.Snapshot().Queued == 1 && h.Upstream.CallsFor("R").Count == 1, "B queued, R backing off");

        h.Dispatcher.Drain();
        var drained = await Task.WhenAll(queued, retrying).DefaultTimeout();

        Assert.True(h.Dispatcher.IsDraining);
        Assert.All(drained, r =>
        {
            Assert.Equal(JobStatus.NotCompleted, r.Status);
            Assert.Equal(JobEndReason.Drained, r.Reason);
        });
        Assert.Empty(h.Upstream.CallsFor("B"));
        Assert.Single(h.Upstream.CallsFor("R"));
        Assert.False(a.IsCompleted);
        Assert.False(inFlight.SawCancellation);

        inFlight.Complete(AttemptOutcome.Success("A-ok"));
        var resultA = await a.DefaultTimeout();
        Assert.Equal(JobStatus.Succeeded, resultA.Status);
        Assert.Equal("A-ok", resultA.Value);
    }

    [Fact]
    public async Task RunAsync_AfterDrain_EndsDrainedWithoutRunning()
    {
        using var h = new DispatchHarness();
        h.Dispatcher.Drain();

        var result = await h.Run("A").DefaultTimeout();

        Assert.Equal(JobEndReason.Drained, result.Reason);
        Assert.Empty(h.Upstream.Calls);
    }

    // ---- Tokens.

    [Theory]
    [InlineData(4_000L, 1_500L, 8_500.0)]
    [InlineData(4_000L, 12_000L, -2_000.0)]
    [InlineData(4_000L, 4_000L, 6_000.0)]
    [InlineData(4_000L, null, 6_000.0)]
    public async Task RunAsync_WhenAttemptReportsActualTokens_SettlesTheReservation(long estimate, long? actual, double expectedAvailable)
    {
        // A 10,000-token burst; the clock stands still, so nothing refills and every change is the settlement's.
        using var h = new DispatchHarness(new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 10_000 });
        var held = Step.Hold();
        h.Upstream.Script("A", held);

        var a = h.Run("A", tokens: estimate);
        await held.WhenStarted.DefaultTimeout();
        Assert.Equal(10_000 - estimate, h.Snapshot().TokensAvailable);
        held.Complete(AttemptOutcome.Success("ok", actual));
        var result = await a.DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(expectedAvailable, h.Snapshot().TokensAvailable);
    }
}
