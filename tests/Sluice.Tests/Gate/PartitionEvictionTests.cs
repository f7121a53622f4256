using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// The gate's table of partitions is bounded (issue 14, finding 1): keys can come from what callers send, so a full
/// gate refuses new keys instead of growing, and a partition idle past the idle timeout is removed.
/// </summary>
public sealed class PartitionEvictionTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromMinutes(10);

    [Fact]
    public void GetPartition_PastMaxPartitions_RefusesNewKeysWithAReason_AndHoldsNoMore()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time, maxPartitions: 3);
        var leases = Enumerable.Range(0, 3).Select(i => gate.GetPartition($"busy-{i}").Enter(new AdmissionRequest()).Admitted()).ToList();

        var refused = gate.GetPartition("one-too-many");
        var rejection = refused.Enter(new AdmissionRequest()).Rejected();

        Assert.Equal(RefusedPartition.RefusedKey, refused.Key);
        Assert.Equal(GateRejectionReason.Stopped, rejection.Rejection);
        Assert.Contains("limit of 3 partitions", rejection.RejectionMessage, StringComparison.Ordinal);
        Assert.Equal(3, gate.Partitions.Count);
        Assert.DoesNotContain(gate.Partitions, p => p.Key == "one-too-many");
        refused.Resume();
        refused.Enter(new AdmissionRequest()).Rejected();
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void GetPartition_ManyKeys_NeverHoldsMoreThanTheBound()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time, maxPartitions: 50);

        for (int i = 0; i < 5_000; i++)
        {
            gate.GetPartition($"random-model-{i}");
        }

        Assert.Equal(50, gate.Partitions.Count);
    }

    [Fact]
    public void IdlePartition_IsRemovedAfterTheIdleTimeout_AndComesBackFresh_WithNothingLearnedKept()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time);
        var evicted = new List<string>();
        gate.PartitionEvicted += evicted.Add;
        var first = gate.GetPartition("p");
        first.Enter(new AdmissionRequest()).Admitted().Dispose();
        first.Stop("credentials rejected");

        // Nothing polls: a look-up of any key sweeps the table, at most once a minute.
        time.Advance(Idle - TimeSpan.FromMinutes(1));
        gate.GetPartition("other");
        Assert.Equal(["other", "p"], gate.Partitions.Select(p => p.Key).Order());

        time.Advance(TimeSpan.FromMinutes(1));
        gate.GetPartition("other");
        Assert.Equal(["other"], gate.Partitions.Select(p => p.Key));
        Assert.Equal(["p"], evicted);

        var second = gate.GetPartition("p");
        Assert.NotSame(first, second);
        Assert.Null(second.GetSnapshot().StopReason);
        second.Enter(new AdmissionRequest()).Admitted().Dispose();
    }

    [Fact]
    public void PartitionInUse_IsNeverRemoved_InFlightWaitingPausedOrLookedUp()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time, limits: new PartitionLimits { MaxConcurrency = 1 });
        var held = gate.GetPartition("in-flight").Enter(new AdmissionRequest()).Admitted();
        var queue = gate.GetPartition("waiting");
        var ahead = queue.Enter(new AdmissionRequest()).Admitted();
        var waiter = queue.Enter(new AdmissionRequest());
        gate.GetPartition("paused").PauseUntil(time.GetUtcNow().AddHours(2));
        var looked = gate.GetPartition("looked-up");

        for (int minute = 0; minute < 90; minute++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            Assert.Same(looked, gate.GetPartition("looked-up"));
        }

        Assert.Equal(["in-flight", "looked-up", "paused", "waiting"], gate.Partitions.Select(p => p.Key).Order());
        waiter.AssertWaiting();
        held.Dispose();
        ahead.Dispose();
        waiter.Admitted().Dispose();
    }

    [Fact]
    public void FullGate_MakesRoomForANewKey_OnceAPartitionHasBeenIdleLongEnough()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time, maxPartitions: 2);
        var busy = gate.GetPartition("busy").Enter(new AdmissionRequest()).Admitted();
        gate.GetPartition("quiet");

        Assert.Equal(RefusedPartition.RefusedKey, gate.GetPartition("new").Key);

        time.Advance(Idle);
        var made = gate.GetPartition("new");

        Assert.Equal("new", made.Key);
        Assert.Equal(["busy", "new"], gate.Partitions.Select(p => p.Key).Order());
        busy.Dispose();
    }

    [Fact]
    public void InfiniteIdleTimeout_KeepsPartitions()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = SluiceGate.Create(new GateOptions { PartitionIdleTimeout = Timeout.InfiniteTimeSpan }, time);
        gate.GetPartition("p");

        time.Advance(TimeSpan.FromDays(3));
        gate.GetPartition("p");

        Assert.Single(gate.Partitions);
    }

    [Fact]
    public void Sweeps_AreAtMostOneAMinute_SoLookUpsDoNotScanTheTable()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = Make(time);
        var evicted = new List<string>();
        gate.PartitionEvicted += evicted.Add;
        gate.GetPartition("p");
        time.Advance(TimeSpan.FromSeconds(585));
        gate.GetPartition("q");

        // At 10m15s "p" has been idle past 10 minutes, but the last sweep was at 9m45s; at 10m45s one is due.
        time.Advance(TimeSpan.FromSeconds(30));
        gate.GetPartition("q");
        Assert.Empty(evicted);
        time.Advance(TimeSpan.FromSeconds(30));
        gate.GetPartition("q");
        Assert.Equal(["p"], evicted);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(5, 0)]
    [InlineData(5, -1)]
    public void Create_WithAnInvalidBound_Throws(int maxPartitions, int idleMinutes) =>
        Assert.ThrowsAny<ArgumentException>(() => SluiceGate.Create(new GateOptions { MaxPartitions = maxPartitions, PartitionIdleTimeout = TimeSpan.FromMinutes(idleMinutes) }));

    private static SluiceGate Make(FakeTimeProvider time, int maxPartitions = 1_000, PartitionLimits? limits = null) =>
        SluiceGate.Create(new GateOptions { DefaultLimits = limits ?? new PartitionLimits(), MaxPartitions = maxPartitions, PartitionIdleTimeout = Idle }, time);
}
