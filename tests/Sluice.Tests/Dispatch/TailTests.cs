using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

/// <summary>
/// The tail of a batch: a try that runs far past the partition's usual latency is hedged when the partition is idle,
/// cut by a learned timeout under the configured one, and a retry with nobody else waiting backs off briefly.
/// </summary>
public sealed class TailTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Step10 = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task RunAsync_WhenATryHangsAndThePartitionIsIdle_HedgesIt_TheHedgeWins_TheHungTryIsCancelled()
    {
        using var h = Harness(o => o.HedgeSlowAttempts = true);
        await WarmUpAsync(h);
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung, Step.After(Latency, AttemptOutcome.Success("from-hedge")));

        var job = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        var started = h.Now;
        var result = await h.Driver.RunUntilAsync(job, Step10, TimeSpan.FromMinutes(1));

        Assert.Equal((JobStatus.Succeeded, "from-hedge"), (result.Status, result.Value));
        Assert.Equal(2, result.Attempts);
        var calls = h.Upstream.CallsFor("slow");
        Assert.Equal(2, calls.Count);
        AssertAt(started + Latency, calls[1].At);   // the hedge starts once the try passes the 99th percentile
        Assert.True(hung.SawCancellation, "the losing try was not cancelled");
        await TestWait.Eventually(() => h.Snapshot().InFlight == 0, "both slots released");
    }

    [Fact]
    public async Task RunAsync_WhenTheFirstTryAnswersFirst_ItWins_AndTheHedgeIsCancelled()
    {
        using var h = Harness(o => o.HedgeSlowAttempts = true);
        await WarmUpAsync(h);
        var first = Step.Hold();
        var second = Step.Hold();
        h.Upstream.Script("slow", first, second);

        var job = h.Run("slow");
        await first.WhenStarted.DefaultTimeout();
        await h.AdvanceAsync(Latency);
        await second.WhenStarted.DefaultTimeout();
        first.Complete(AttemptOutcome.Success("from-first"));
        var result = await job.DefaultTimeout();

        Assert.Equal("from-first", result.Value);
        Assert.Equal(2, result.Attempts);
        await TestWait.Eventually(() => second.SawCancellation, "the hedge cancelled");
        await TestWait.Eventually(() => h.Snapshot().InFlight == 0, "both slots released");
    }

    [Fact]
    public async Task RunAsync_WhenAHedgedTryFailsTransiently_WaitsForTheOtherInsteadOfRetrying()
    {
        using var h = Harness(o => o.HedgeSlowAttempts = true);
        await WarmUpAsync(h);
        var first = Step.Hold();
        var second = Step.Hold();
        h.Upstream.Script("slow", first, second);

        var job = h.Run("slow");
        await first.WhenStarted.DefaultTimeout();
        await h.AdvanceAsync(Latency);
        await second.WhenStarted.DefaultTimeout();
        first.Complete(AttemptOutcome.Transient<string>("500"));
        await h.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.False(job.IsCompleted);
        second.Complete(AttemptOutcome.Success("from-hedge"));
        var result = await job.DefaultTimeout();

        Assert.Equal((JobStatus.Succeeded, "from-hedge", 2), (result.Status, result.Value, result.Attempts));
        Assert.Equal(2, h.Upstream.CallsFor("slow").Count);
    }

    [Fact]
    public async Task RunAsync_WhenTheHedgeFailsTransiently_CancelsTheHungTryAndRetries()
    {
        using var h = Harness(o =>
        {
            o.HedgeSlowAttempts = true;
            o.ShortenIdleBackoff = true;
            o.BaseRetryDelay = TimeSpan.FromSeconds(1);
        });
        await WarmUpAsync(h);
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung, Step.After(Latency, AttemptOutcome.Transient<string>("500")), Step.Returns(AttemptOutcome.Success("retried")));

        var job = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        var started = h.Now;
        var result = await h.Driver.RunUntilAsync(job, Step10, TimeSpan.FromMinutes(1));

        Assert.Equal((JobStatus.Succeeded, "retried", 3), (result.Status, result.Value, result.Attempts));
        Assert.True(hung.SawCancellation, "the hung try was not cancelled");

        // Hedged at 100 ms, its 500 at 200 ms, then a tenth of the 2 s backoff that follows two failed tries.
        AssertAt(started + TimeSpan.FromMilliseconds(400), h.Upstream.CallsFor("slow")[2].At);
    }

    [Fact]
    public async Task RunAsync_WhenAnotherJobWaitsAtThePartition_DoesNotHedge()
    {
        using var h = Harness(o =>
        {
            o.HedgeSlowAttempts = true;
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
        }, new PartitionLimits { MaxConcurrency = 1 });
        await WarmUpAsync(h);
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung, Step.Returns(AttemptOutcome.Success("retried")));

        var slow = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        var waiting = h.Run("waiting");
        await TestWait.Eventually(() => h.Snapshot().Queued == 1, "the second job queued");
        await h.AdvanceAsync(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));

        Assert.Single(h.Upstream.CallsFor("slow"));
        Assert.Empty(h.Upstream.CallsFor("waiting"));
        await h.Driver.RunUntilAsync(Task.WhenAll(slow, waiting), Step10, TimeSpan.FromMinutes(1));
        Assert.Equal(2, (await slow).Attempts);
    }

    [Fact]
    public async Task RunAsync_WhenThePartitionDrainsWhileATryHangs_HedgesAtTheNextCheck()
    {
        using var h = Harness(o => o.HedgeSlowAttempts = true, new PartitionLimits { MaxConcurrency = 2 });
        await WarmUpAsync(h);
        var hung = Step.Hold();
        var busy = Step.Hold();
        h.Upstream.Script("slow", hung, Step.Returns(AttemptOutcome.Success("from-hedge")));
        h.Upstream.Script("busy", busy);

        // The other slot is taken when the try turns slow (100 ms), and free by the second check (200 ms).
        var slow = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        var started = h.Now;
        var other = h.Run("busy");
        await busy.WhenStarted.DefaultTimeout();
        await h.AdvanceAsync(Latency);
        Assert.Single(h.Upstream.CallsFor("slow"));
        busy.Complete(AttemptOutcome.Success("done"));
        var result = await h.Driver.RunUntilAsync(slow, Step10, TimeSpan.FromMinutes(1));
        await other.DefaultTimeout();

        Assert.Equal(("from-hedge", 2), (result.Value, result.Attempts));
        AssertAt(started + (2 * Latency), h.Upstream.CallsFor("slow")[1].At);
    }

    [Fact]
    public async Task RunAsync_WhenTheRetryBudgetIsSpent_DoesNotHedge_EvenWhenThePartitionIsIdle()
    {
        // A hedge is a retry: with none to spare it would multiply the load it is meant to cut short.
        using var h = Harness(o =>
        {
            o.HedgeSlowAttempts = true;
            o.RetryBudgetBurst = 1;
            o.RetryBudgetRatio = 0;
            o.MinRetriesPerSecond = 0.001;
            o.BaseRetryDelay = TimeSpan.Zero;
        });
        await WarmUpAsync(h);
        h.Upstream.Script("spend", Step.Returns(AttemptOutcome.Transient<string>("500")), Step.Returns(AttemptOutcome.Success("ok")));
        Assert.True((await h.Run("spend").DefaultTimeout()).IsSuccess);   // its retry took the budget's only one
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung);

        var job = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        for (int i = 0; i < 10; i++)
        {
            await h.AdvanceAsync(Latency);
        }

        Assert.Single(h.Upstream.CallsFor("slow"));
        hung.Complete(AttemptOutcome.Success("late"));
        var result = await job.DefaultTimeout();
        Assert.Equal(("late", 1), (result.Value, result.Attempts));
    }

    [Fact]
    public async Task RunAsync_BeforeTwentyAnswersAreKnown_NeitherHedgesNorLearnsATimeout()
    {
        using var h = Harness(o =>
        {
            o.HedgeSlowAttempts = true;
            o.LearnAttemptTimeout = true;
            o.AttemptTimeout = TimeSpan.FromSeconds(30);
        });
        await WarmUpAsync(h, count: LatencyTracker.MinSamples - 1);
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung, Step.Returns(AttemptOutcome.Success("ok")));

        var job = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();
        await h.AdvanceAsync(TimeSpan.FromSeconds(30) - TimeSpan.FromMilliseconds(1));

        Assert.Single(h.Upstream.CallsFor("slow"));
        await h.Driver.RunUntilAsync(job, Step10, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task RunAsync_WithLatenciesKnown_ALearnedTimeoutCutsAHungTryBeforeTheConfiguredOne_AndTheRetryGetsTheConfiguredOne()
    {
        using var h = Harness(o =>
        {
            o.LearnAttemptTimeout = true;
            o.MinLearnedAttemptTimeout = TimeSpan.FromSeconds(1);
            o.AttemptTimeout = TimeSpan.FromSeconds(60);
            o.BaseRetryDelay = TimeSpan.FromSeconds(1);
        });
        await WarmUpAsync(h);
        var firstTry = Step.Hold();
        var secondTry = Step.Hold();
        h.Upstream.Script("hung", firstTry, secondTry, Step.Returns(AttemptOutcome.Success("ok")));

        var job = h.Run("hung");
        await firstTry.WhenStarted.DefaultTimeout();
        var started = h.Now;
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));           // 4 × p99 (400 ms) is under the floor: 1 s
        Assert.True(firstTry.SawCancellation, "the learned timeout did not cut the try");
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));           // the backoff
        await secondTry.WhenStarted.DefaultTimeout();
        AssertAt(started + TimeSpan.FromSeconds(2), h.Upstream.CallsFor("hung")[1].At);

        await h.AdvanceAsync(TimeSpan.FromSeconds(59));
        Assert.False(secondTry.SawCancellation, "the retry was cut by the learned timeout again");
        await h.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.True(secondTry.SawCancellation, "the retry was not cut by the configured timeout");
        await h.Driver.RunUntilAsync(job, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
    }

    [Theory]
    [InlineData(false, 100)]   // a plain 500 with nobody waiting: a tenth of the backoff
    [InlineData(true, 1_000)]  // a 503 says the upstream is overloaded: the full backoff
    public async Task RunAsync_WhenNobodyWaits_RetriesAfterATenthOfTheBackoff_UnlessTheUpstreamIsOverloaded(bool overloaded, int expectedMs)
    {
        using var h = Harness(o =>
        {
            o.ShortenIdleBackoff = true;
            o.BaseRetryDelay = TimeSpan.FromSeconds(1);
        });
        var failure = overloaded ? AttemptOutcome.Overloaded<string>("503") : AttemptOutcome.Transient<string>("500");
        h.Upstream.Script("A", Step.Returns(failure), Step.Returns(AttemptOutcome.Success("ok")));

        var result = await h.Driver.RunUntilAsync(h.Run("A"), Step10, TimeSpan.FromMinutes(1));

        Assert.True(result.IsSuccess);
        var calls = h.Upstream.CallsFor("A");
        AssertAt(calls[0].At + TimeSpan.FromMilliseconds(expectedMs), calls[1].At);
    }

    [Theory]
    [InlineData(1_000, 1_000)]  // B holds the only slot throughout: someone always waits, the full backoff
    [InlineData(300, 600)]      // B done at 300 ms: the check at 500 ms finds the partition idle, 100 ms more
    public async Task RunAsync_WhenAnotherJobWaits_BacksOffUntilThePartitionIsFoundIdle(int blockerDoneMs, int expectedRetryMs)
    {
        using var h = Harness(o =>
        {
            o.ShortenIdleBackoff = true;
            o.BaseRetryDelay = TimeSpan.FromSeconds(1);
        }, new PartitionLimits { MaxConcurrency = 1 });
        var failing = Step.Hold();
        var blocker = Step.Hold();
        h.Upstream.Script("A", failing, Step.Returns(AttemptOutcome.Success("ok")));
        h.Upstream.Script("B", blocker);

        // A holds the only slot and B queues behind it, so someone is waiting when A fails; B then holds the slot.
        var a = h.Run("A");
        await failing.WhenStarted.DefaultTimeout();
        var b = h.Run("B");
        await TestWait.Eventually(() => h.Snapshot().Queued == 1, "B queued");
        failing.Complete(AttemptOutcome.Transient<string>("500"));
        await blocker.WhenStarted.DefaultTimeout();
        var failedAt = h.Now;
        for (int ms = 0; ms < blockerDoneMs; ms += 10)
        {
            await h.AdvanceAsync(Step10);
        }

        blocker.Complete(AttemptOutcome.Success("ok"));
        await h.Driver.RunUntilAsync(Task.WhenAll(a, b), Step10, TimeSpan.FromMinutes(1));

        AssertAt(failedAt + TimeSpan.FromMilliseconds(expectedRetryMs), h.Upstream.CallsFor("A")[1].At);
    }

    [Fact]
    public void LatencyTracker_Quantile_IsTheNearestRankOfTheRecentSamples()
    {
        var tracker = new LatencyTracker();
        for (int i = 1; i <= 100; i++)
        {
            tracker.Record(TimeSpan.FromMilliseconds(i));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(99), tracker.Quantile(0.99));
        Assert.Equal(TimeSpan.FromMilliseconds(50), tracker.Quantile(0.5));

        // Only the last Capacity samples count: a slower upstream is followed.
        for (int i = 0; i < LatencyTracker.Capacity; i++)
        {
            tracker.Record(TimeSpan.FromSeconds(2));
        }

        Assert.Equal(TimeSpan.FromSeconds(2), tracker.Quantile(0.5));
    }

    [Theory]
    [InlineData(100, 60_000, 2_000, 2_000, true)]     // 4 × 100 ms is under the floor
    [InlineData(900, 60_000, 2_000, 3_600, true)]     // 4 × p99
    [InlineData(900, 3_000, 2_000, 3_000, false)]     // capped by the configured timeout: that one applies
    public void TailTiming_Timeout_IsFourTimesTheSlowQuantile_BetweenTheFloorAndTheConfiguredCeiling(
        int slowMs, int configuredMs, int floorMs, int expectedMs, bool learned)
    {
        var options = new DispatcherOptions
        {
            AttemptTimeout = TimeSpan.FromMilliseconds(configuredMs),
            MinLearnedAttemptTimeout = TimeSpan.FromMilliseconds(floorMs),
        };

        var (limit, isLearned) = TailTiming.Timeout(options, TimeSpan.FromMilliseconds(slowMs), cutBefore: false);

        Assert.Equal((TimeSpan.FromMilliseconds(expectedMs), learned), (limit!.Value, isLearned));
        Assert.Equal((options.AttemptTimeout, false), TailTiming.Timeout(options, TimeSpan.FromMilliseconds(slowMs), cutBefore: true));
    }

    [Fact]
    public void TailTiming_HedgeDelay_NeedsASpareAttempt()
    {
        var options = new DispatcherOptions { MaxAttempts = 3 };
        var slow = TimeSpan.FromMilliseconds(400);

        Assert.Equal(slow, TailTiming.HedgeDelay(options, slow, attemptsUsed: 1, timeout: null));
        Assert.Null(TailTiming.HedgeDelay(options, slow, attemptsUsed: 2, timeout: null));
        Assert.Null(TailTiming.HedgeDelay(options, slowQuantile: null, attemptsUsed: 0, timeout: null));
        Assert.Null(TailTiming.HedgeDelay(options, slow, attemptsUsed: 0, timeout: TimeSpan.FromMilliseconds(300)));
    }

    private static DispatchHarness Harness(Action<DispatcherOptions> configure, PartitionLimits? limits = null) =>
        new(limits, configure);

    /// <summary>Teaches the partition its latency: <paramref name="count"/> answers of exactly 100 ms.</summary>
    private static async Task WarmUpAsync(DispatchHarness h, int count = LatencyTracker.MinSamples)
    {
        var ids = Enumerable.Range(0, count).Select(i => $"warm-{i}").ToList();
        foreach (var id in ids)
        {
            h.Upstream.Script(id, Step.After(Latency, AttemptOutcome.Success(id)));
        }

        await h.Driver.RunUntilAsync(Task.WhenAll(ids.Select(id => h.Run(id))), Step10, TimeSpan.FromMinutes(1));
    }

    /// <summary>
    /// A call made at <paramref name="expected"/>: not earlier, and at most five steps of the fake clock later (the
    /// driver advances in steps and settles between them by watching the thread pool, which a loaded machine can fool
    /// by a step or two; CI once saw two). The instants these tests tell apart are 100 ms or more apart.
    /// </summary>
    private static void AssertAt(DateTimeOffset expected, DateTimeOffset actual) =>
        Assert.InRange(actual, expected, expected + (5 * Step10));
}
