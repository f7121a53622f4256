using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class AttemptTimeoutTests
{
    [Fact]
    public async Task AnAttemptThatIgnoresItsToken_IsAbandonedAtTheTimeout_AndItsSlotFreed()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, time);
        using var dispatcher = SluiceDispatcher.Create(
            gate,
            new DispatcherOptions { AttemptTimeout = TimeSpan.FromSeconds(5), MaxAttempts = 1 },
            random: new Random(1));
        var never = new TaskCompletionSource<AttemptOutcome<string>>();
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("deaf", "p"), (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<AttemptOutcome<string>>(never.Task);   // never looks at its token
        }).AsTask();
        await TestWait.Eventually(() => Volatile.Read(ref calls) == 1, "the attempt started");

        // One tick short of the timeout the attempt is still running and holds the only slot: the timeout is not early.
        time.AdvanceInline(TimeSpan.FromSeconds(5) - TimeSpan.FromTicks(1));
        Assert.False(job.IsCompleted, "the attempt was abandoned before its timeout");
        Assert.Equal(1, gate.GetPartition("p").GetSnapshot().InFlight);

        time.AdvanceInline(TimeSpan.FromTicks(1));
        var result = await job.DefaultTimeout();

        Assert.Equal((JobStatus.Failed, JobEndReason.AttemptsExhausted), (result.Status, result.Reason));
        Assert.Contains("timed out after 00:00:05", result.Error);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(1, Volatile.Read(ref calls));
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.Equal(0, gate.GetPartition("p").GetSnapshot().InFlight);
    }

    [Fact]
    public async Task AnAbandonedAttemptThatTookItsLease_StillHasItsSlotFreed_SoTheRetryRuns()
    {
        // A streamed answer takes its lease over as its headers arrive; a try abandoned at its timeout after that must
        // not keep the slot, or with one slot the retry could never start.
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, time);
        using var dispatcher = SluiceDispatcher.Create(
            gate,
            new DispatcherOptions { AttemptTimeout = TimeSpan.FromSeconds(5), MaxAttempts = 2, BaseRetryDelay = TimeSpan.FromSeconds(1), RetryJitter = 0, ShortenIdleBackoff = false, LearnAttemptTimeout = false, HedgeSlowAttempts = false },
            random: new Random(1));
        var never = new TaskCompletionSource<AttemptOutcome<string>>();
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("stream", "p"), (context, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.TakeLease();
                return new ValueTask<AttemptOutcome<string>>(never.Task);   // holds the lease and never answers
            }

            return new ValueTask<AttemptOutcome<string>>(AttemptOutcome.Success("second"));
        }).AsTask();
        await TestWait.Eventually(() => Volatile.Read(ref calls) == 1, "the attempt started");

        time.AdvanceInline(TimeSpan.FromSeconds(5));
        await TestWait.Eventually(() => gate.GetPartition("p").GetSnapshot().InFlight == 0, "the abandoned try's slot freed");
        time.AdvanceInline(TimeSpan.FromSeconds(1));
        var result = await job.DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(2, Volatile.Read(ref calls));
        Assert.Equal(0, gate.GetPartition("p").GetSnapshot().InFlight);
        never.SetResult(AttemptOutcome.Success("late"));
    }

    [Fact]
    public async Task AnAttemptThatIgnoresItsToken_WithNoAttemptTimeout_StillEndsAtTheJobsDeadline()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, time);
        using var dispatcher = SluiceDispatcher.Create(
            gate,
            new DispatcherOptions { AttemptTimeout = null, JobDeadline = TimeSpan.FromSeconds(5), LearnAttemptTimeout = false, HedgeSlowAttempts = false },
            random: new Random(1));
        var never = new TaskCompletionSource<AttemptOutcome<string>>();
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("deaf", "p"), (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<AttemptOutcome<string>>(never.Task);
        }).AsTask();
        await TestWait.Eventually(() => Volatile.Read(ref calls) == 1, "the attempt started");

        time.AdvanceInline(TimeSpan.FromSeconds(5));
        var result = await job.DefaultTimeout();

        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        Assert.Contains("during a try", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, gate.GetPartition("p").GetSnapshot().InFlight);
        never.SetResult(AttemptOutcome.Success("late"));
    }

    [Fact]
    public async Task ATimedOutAttempt_IsRetried_AndTheRetryIsTimedOutAgain_NotLeftToHang()
    {
        // A timeout is a transient (overloaded) outcome: the job goes round again, and each try gets its own timeout.
        using var h = new DispatchHarness(configure: o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.MaxAttempts = 2;
            o.BaseRetryDelay = TimeSpan.FromSeconds(1);
        });
        var first = Step.Hold();
        var second = Step.Hold();
        h.Upstream.Script("slow", first, second);

        var job = h.Run("slow");
        await first.WhenStarted.DefaultTimeout();
        var start = h.Now;
        var result = await h.Driver.RunUntilAsync(job, TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(1));

        Assert.True(first.SawCancellation, "the first try's token was not cancelled at its timeout");
        Assert.True(second.SawCancellation, "the retry's token was not cancelled at its timeout");
        Assert.Equal((JobStatus.Failed, JobEndReason.AttemptsExhausted, 2), (result.Status, result.Reason, result.Attempts));
        var calls = h.Upstream.CallsFor("slow");
        Assert.Equal(2, calls.Count);

        // The retry starts after the 5 s timeout and the 1 s backoff, stepped in quarter seconds.
        Assert.InRange(calls[1].At - start, TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(6.25));
        Assert.Equal(0, h.Snapshot().InFlight);
    }

    [Fact]
    public async Task ANegativeActualTokenCount_IsIgnored_NotAnException()
    {
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 1_000 } }, new FakeTimeProvider());
        using var dispatcher = SluiceDispatcher.Create(gate, random: new Random(1));

        var result = await dispatcher.RunAsync(
            new SluiceJob("odd", "p") { EstimatedTokens = 100 },
            (_, _) => ValueTask.FromResult(AttemptOutcome.Success("ok", actualTokens: -5))).AsTask().DefaultTimeout();

        Assert.True(result.IsSuccess);

        // The reservation of 100 stands: a negative count settles nothing (settling -5 would give back 105).
        Assert.Equal(900, gate.GetPartition("p").GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public async Task AZeroActualTokenCount_IsSettled_AndGivesTheReservationBack()
    {
        // The boundary of the check above: zero is a real count (an answer that used nothing), not "unknown".
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 1_000 } }, new FakeTimeProvider());
        using var dispatcher = SluiceDispatcher.Create(gate, random: new Random(1));

        var result = await dispatcher.RunAsync(
            new SluiceJob("free", "p") { EstimatedTokens = 100 },
            (_, _) => ValueTask.FromResult(AttemptOutcome.Success("ok", actualTokens: 0))).AsTask().DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(1_000, gate.GetPartition("p").GetSnapshot().TokensAvailable!.Value, precision: 6);
    }
}
