using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;

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

        var parked = await first.WaitAsync(TimeSpan.FromSeconds(30));
        var stopped = await second.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((JobStatus.NotCompleted, JobEndReason.Parked), (parked.Status, parked.Reason));
        Assert.Contains("03:00:00", parked.Error);
        Assert.Equal((JobStatus.NotCompleted, JobEndReason.PartitionStopped), (stopped.Status, stopped.Reason));
        Assert.Equal(0, secondRan);
        Assert.StartsWith("parked:", gate.GetPartition("p").GetSnapshot().StopReason);
    }

    [Fact]
    public async Task RunAsync_WhenTheWaitIsWithinMaxThrottlePause_PausesAndCarriesOn()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions(), time);
        using var dispatcher = SluiceDispatcher.Create(gate, new DispatcherOptions { MaxThrottlePause = TimeSpan.FromMinutes(5), ThrottleJitter = 0 }, random: new Random(1));
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("brief", "p"), (_, _) => ValueTask.FromResult(
            Interlocked.Increment(ref calls) == 1 ? AttemptOutcome.Throttled<string>(TimeSpan.FromMinutes(4)) : AttemptOutcome.Success("ok"))).AsTask();

        while (!job.IsCompleted && calls < 2)
        {
            await Task.Yield();
            time.Advance(TimeSpan.FromSeconds(30));
        }

        var result = await job.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(result.IsSuccess);
        Assert.Equal(1, result.Throttles);
        Assert.Null(gate.GetPartition("p").GetSnapshot().StopReason);
    }
}
