using Sluice.Adaptive;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

/// <summary>The dispatcher feeds each finished attempt to the partition's adaptive limits; interruptions say nothing.</summary>
public sealed class AdaptivePacingTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task RunAsync_Successes_GrowTheAdaptiveLimitFromItsStart()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 50, AdaptiveConcurrency = true });
        var ids = Enumerable.Range(0, 60).Select(i => $"j{i}").ToList();
        foreach (var id in ids)
        {
            h.Upstream.Script(id, Step.After(Latency, AttemptOutcome.Success(id)));
        }

        var runs = ids.Select(id => h.Run(id)).ToList();
        await h.SettleAsync();
        Assert.Equal(AimdLimit.InitialLimit, h.Upstream.Inside("a"));

        int rounds = 0;
        while (runs.Any(r => !r.IsCompleted))
        {
            Assert.True(++rounds < 60, h.Describe());
            await h.AdvanceAsync(Latency);
        }

        Assert.All(await Task.WhenAll(runs), r => Assert.True(r.IsSuccess));

        // Slow start: 8, then 16, 32, 64 in flight per round trip; 60 jobs take 4 rounds, not 8.
        Assert.True(rounds <= 5, $"took {rounds} round trips");
        Assert.True(h.Snapshot().ConcurrencyLimit > 30, $"limit {h.Snapshot().ConcurrencyLimit}");
    }

    [Fact]
    public async Task RunAsync_AnAttemptTimeout_CutsTheAdaptiveLimit()
    {
        using var h = new DispatchHarness(
            new PartitionLimits { MaxConcurrency = 50, AdaptiveConcurrency = true },
            o => o.AttemptTimeout = TimeSpan.FromSeconds(1));
        var hung = Step.Hold();
        h.Upstream.Script("slow", hung, Step.Returns(AttemptOutcome.Success("ok")));
        var run = h.Run("slow");
        await hung.WhenStarted.DefaultTimeout();

        await h.AdvanceAsync(TimeSpan.FromSeconds(1));

        Assert.Equal((int)(AimdLimit.InitialLimit * AimdLimit.SlowStartBackoffRatio), h.Snapshot().ConcurrencyLimit);
        await h.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.True((await run.DefaultTimeout()).IsSuccess);
    }

    [Fact]
    public async Task RunAsync_ACallerCancellation_IsNotASignal()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 50, AdaptiveConcurrency = true });
        var held = Step.Hold();
        h.Upstream.Script("cancelled", held);
        using var cancel = new CancellationTokenSource();
        var run = h.Run("cancelled", cancellationToken: cancel.Token);
        await held.WhenStarted.DefaultTimeout();

        await cancel.CancelAsync();

        Assert.Equal(JobStatus.NotCompleted, (await run.DefaultTimeout()).Status);
        Assert.Equal(AimdLimit.InitialLimit, h.Snapshot().ConcurrencyLimit);
    }

    [Fact]
    public async Task RunAsync_ThrottledWithNoBudgetKnown_LearnsARequestRate()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 50 });
        var ids = Enumerable.Range(0, 20).Select(i => $"j{i}").ToList();
        foreach (var id in ids)
        {
            h.Upstream.Script(id, Step.After(Latency, AttemptOutcome.Success(id)));
        }

        h.Upstream.Script("refused", Step.After(Latency, AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(1))), Step.Returns(AttemptOutcome.Success("ok")));
        var runs = ids.Select(id => h.Run(id)).ToList();
        await h.SettleAsync();
        runs.Add(h.Run("refused"));
        await h.SettleAsync();
        Assert.Null(h.Snapshot().RequestsPerMinute);

        await h.AdvanceAsync(Latency);

        // 21 started together and one refused: the ones admitted before it passed at once, a lower bound on the rate
        // (counted over a second at least, since they took no time at all), from which the rate climbs.
        Assert.Equal(BudgetSource.Throttling, h.Snapshot().RequestBudgetSource);
        Assert.Equal(20 * 60 / RateProbe.FirstSpan.TotalSeconds, h.Snapshot().RequestsPerMinute!.Value, precision: 6);
        await h.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.All(await Task.WhenAll(runs).DefaultTimeout(), r => Assert.True(r.IsSuccess));
    }
}
