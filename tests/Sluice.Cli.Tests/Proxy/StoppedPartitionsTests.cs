using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Proxy;
using Sluice.Gate;

namespace Sluice.Cli.Tests.Proxy;

public sealed class StoppedPartitionsTests
{
    [Fact]
    public void StoppedPartition_StaysStopped_ThenResumesAfterTheRetryInterval()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(timeProvider: time);
        var partition = gate.GetPartition("default|key:abc|gpt-4o");
        var stopped = new StoppedPartitions(time, NullLogger.Instance);
        partition.Stop("quota exhausted");
        stopped.Stopped(partition);

        time.Advance(ProxyDefaults.StoppedRetry - TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.NotNull(partition.GetSnapshot().StopReason);

        time.Advance(TimeSpan.FromSeconds(1));
        stopped.ResumeIfDue(partition);
        Assert.Null(partition.GetSnapshot().StopReason);
    }

    [Fact]
    public void RunningPartition_IsLeftAlone()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(timeProvider: time);
        var partition = gate.GetPartition("p");

        new StoppedPartitions(time, NullLogger.Instance).ResumeIfDue(partition);

        Assert.Null(partition.GetSnapshot().StopReason);
    }
}
