using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Proxy.Tests;

public sealed class StoppedPartitionsTests
{
    private static readonly TimeSpan RetryAfter = new SluiceProxyOptions().StoppedRetry;

    [Fact]
    public void StoppedPartition_StaysStopped_ThenResumesAfterTheRetryInterval()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(timeProvider: time);
        var partition = gate.GetPartition("default|key:abc|gpt-4o");
        var stopped = new StoppedPartitions(RetryAfter, time, NullLogger.Instance);
        partition.Stop("quota exhausted");
        stopped.Stopped(partition);

        time.Advance(RetryAfter - TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.NotNull(partition.GetSnapshot().StopReason);

        time.Advance(TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.Null(partition.GetSnapshot().StopReason);
    }

    [Fact]
    public void PartitionSeenRunning_ForgetsItsOldStop_SoALaterStopGetsAFullInterval()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(timeProvider: time);
        var partition = gate.GetPartition("p");
        var stopped = new StoppedPartitions(RetryAfter, time, NullLogger.Instance);
        partition.Stop("key rejected");
        stopped.Stopped(partition);

        // Someone else resumed it; a request sees it running.
        time.Advance(TimeSpan.FromSeconds(10));
        partition.Resume();
        stopped.ResumeIfDue(partition);
        Assert.Null(partition.GetSnapshot().StopReason);

        // Stopped again later by another path; a full interval must pass from when the proxy first sees it stopped.
        time.Advance(RetryAfter);
        partition.Stop("key rejected again");
        stopped.ResumeIfDue(partition);
        Assert.NotNull(partition.GetSnapshot().StopReason);
        time.Advance(RetryAfter - TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.NotNull(partition.GetSnapshot().StopReason);
        time.Advance(TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.Null(partition.GetSnapshot().StopReason);
    }
}
