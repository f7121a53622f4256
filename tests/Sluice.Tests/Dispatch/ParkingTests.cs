using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class ParkingTests
{
    [Fact]
    public async Task RunAsync_WhenTheProviderAsksForHours_ParksThePartitionAndSaysSo_InsteadOfSleeping()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, time);
        using var dispatcher = SluiceDispatcher.Create(gate, new DispatcherOptions { MaxThrottlePause = TimeSpan.FromMinutes(5) }, random: new Random(1));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int secondRan = 0;

        var first = dispatcher.RunAsync(new SluiceJob("daily-limit", "p"), async (_, _) =>
        {
            await release.Task;
            return AttemptOutcome.Throttled<string>(TimeSpan.FromHours(3), "daily request limit reached");
        }).AsTask();
        var second = dispatcher.RunAsync(new SluiceJob("behind", "p"), (_, _) =>
        {
            Interlocked.Increment(ref secondRan);
            return ValueTask.FromResult(AttemptOutcome.Success("ran"));
        }).AsTask();
        release.SetResult();

        var parked = await first.DefaultTimeout();
        var stopped = await second.DefaultTimeout();

        Assert.Equal((JobStatus.NotCompleted, JobEndReason.Parked), (parked.Status, parked.Reason));
        Assert.Contains("03:00:00", parked.Error);
        Assert.Equal((JobStatus.NotCompleted, JobEndReason.PartitionStopped), (stopped.Status, stopped.Reason));
        Assert.Equal(0, secondRan);
        Assert.StartsWith("parked:", gate.GetPartition("p").GetSnapshot().StopReason);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]   // exactly MaxThrottlePause: still a pause, not a park
    public async Task RunAsync_WhenTheWaitIsWithinMaxThrottlePause_PausesForIt_AndCarriesOn(int minutes)
    {
        using var h = new DispatchHarness(configure: o => o.MaxThrottlePause = TimeSpan.FromMinutes(5));
        var wait = TimeSpan.FromMinutes(minutes);
        h.Upstream.Script("brief", Step.Returns(AttemptOutcome.Throttled<string>(wait)), Step.Returns(AttemptOutcome.Success("ok")));

        var job = h.Run("brief");
        var result = await h.Driver.RunUntilAsync(job, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10));

        Assert.True(result.IsSuccess);
        Assert.Equal((1, 1), (result.Throttles, result.Attempts));
        var calls = h.Upstream.CallsFor("brief");
        Assert.Equal(2, calls.Count);

        // The retry waits out the provider's wait (no jitter in the harness), stepped in whole seconds.
        Assert.InRange(calls[1].At - calls[0].At, wait, wait + TimeSpan.FromSeconds(1));
        Assert.Null(h.Snapshot().StopReason);
    }

    [Fact]
    public async Task RunAsync_WhenTheProviderAsksForALongWait_AddsAtMostASecondOfJitter()
    {
        // The jitter spreads the restart of waiting jobs; a share of a half-hour wait would be minutes of lost budget.
        using var h = new DispatchHarness(configure: o =>
        {
            o.MaxThrottlePause = TimeSpan.FromHours(1);
            o.ThrottleJitter = 0.5;
        });
        h.Upstream.Script("long", Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromMinutes(30))), Step.Returns(AttemptOutcome.Success("ok")));
        var start = h.Now;

        var job = h.Run("long");
        await TestWait.Eventually(() => h.Snapshot().PausedUntil is not null, "the partition paused");

        var pause = h.Snapshot().PausedUntil!.Value - start;
        Assert.InRange(pause, TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(30) + TimeSpan.FromSeconds(1));
        Assert.NotEqual(TimeSpan.FromMinutes(30), pause);   // the jitter is there (the seeded draw is not zero)
        // Timers count whole milliseconds: the pause ends within one of its exact instant.
        await h.AdvanceAsync(pause + TimeSpan.FromMilliseconds(1));
        var result = await job.DefaultTimeout();
        Assert.True(result.IsSuccess);
        Assert.InRange(h.Upstream.CallsFor("long")[1].At - start, pause, pause + TimeSpan.FromMilliseconds(1));
    }
}
