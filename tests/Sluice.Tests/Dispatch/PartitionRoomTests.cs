using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Tests.Dispatch;

/// <summary>A partition is idle only when one more request takes nothing from anyone: each condition on its edge.</summary>
public sealed class PartitionRoomTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void IsIdle_WhenStoppedOrPaused_IsFalse_AndTrueAgainOnceResumed()
    {
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 2 });
        var partition = gate.GetPartition("p");
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));

        partition.Stop("quota");
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));
        partition.Resume();
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));

        partition.PauseUntil(_time.GetUtcNow() + TimeSpan.FromSeconds(5));
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));
    }

    [Fact]
    public void IsIdle_WithTheLastSlotFree_IsTrue_AndFalseOnceItIsTaken()
    {
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 2 });
        var partition = gate.GetPartition("p");

        using var first = partition.TryAcquire(new AdmissionRequest(0));
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));
        using var second = partition.TryAcquire(new AdmissionRequest(0));
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));
    }

    [Fact]
    public async Task IsIdle_WhenSomeoneIsQueued_IsFalse()
    {
        using var gate = Gate(new PartitionLimits { MaxConcurrency = 1 });
        var partition = gate.GetPartition("p");
        var held = partition.TryAcquire(new AdmissionRequest(0));
        var waiting = partition.AcquireAsync(new AdmissionRequest(0)).AsTask();
        Assert.Equal(1, partition.GetSnapshot().Queued);

        // The held slot is released and handed straight to the waiter: a slot is taken, nobody queues, still not idle.
        held.Dispose();
        using var admitted = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));
        admitted.Dispose();
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));
    }

    [Fact]
    public void IsIdle_NeedsOneWholeRequestOfTheRequestBudget()
    {
        using var gate = Gate(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        var partition = gate.GetPartition("p");
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));

        partition.TryAcquire(new AdmissionRequest(0)).Dispose();
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));

        // 60 a minute is one a second: half a second gives half a request, a second a whole one.
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 0));
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.True(PartitionRoom.IsIdle(partition, tokens: 0));
    }

    [Fact]
    public void IsIdle_NeedsTheRequestsTokensInTheTokenBudget()
    {
        using var gate = Gate(new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 1_000 });
        var partition = gate.GetPartition("p");

        Assert.True(PartitionRoom.IsIdle(partition, tokens: 1_000));
        Assert.False(PartitionRoom.IsIdle(partition, tokens: 1_001));
    }

    private SluiceGate Gate(PartitionLimits limits) =>
        SluiceGate.Create(new GateOptions { DefaultLimits = limits }, _time);
}
