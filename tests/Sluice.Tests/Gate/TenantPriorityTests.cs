using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Priorities and their aging among a partition's waiters, on a fake clock.</summary>
public sealed class TenantPriorityTests
{
    private static PartitionLimits TenPerSecond() =>
        new() { MaxConcurrency = 10_000, RequestsPerWindow = 600, RequestBurst = 1, LearnBudgets = false };

    [Fact]
    public void Acquire_HigherPriority_IsAdmittedFirstWhateverItsTenant()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 1, LearnBudgets = false });
        var first = rig.Partition.Enter(new AdmissionRequest()).Admitted();
        var low = rig.Partition.Enter(new AdmissionRequest(Priority: 0) { Tenant = new GateTenant("a") { Weight = 1000 } });
        var high = rig.Partition.Enter(new AdmissionRequest(Priority: 5) { Tenant = new GateTenant("b") });

        first.Dispose();

        high.Admitted().Dispose();
        low.Admitted().Dispose();
    }

    [Fact]
    public void Acquire_LowPriorityUnderAContinuousHighPriorityStream_IsAdmittedOnceAged()
    {
        using var rig = new TenantRig(TenPerSecond(), priorityAging: TimeSpan.FromSeconds(2));
        rig.Keep(new GateTenant("urgent"), depth: 10, priority: 1);
        rig.RunTo(5);
        var low = rig.Partition.Enter(new AdmissionRequest(Priority: 0) { Tenant = new GateTenant("patient") });

        rig.RunTo(20);

        // Aged by one after 2 s it ties the stream's priority and, a newcomer in fair share, goes at the next admission.
        var lease = low.Admitted();
        Assert.InRange(lease.WaitTime, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.1) + TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public void Acquire_StrictPriorities_LowWaitsWhileHigherOnesWait()
    {
        using var rig = new TenantRig(TenPerSecond(), priorityAging: Timeout.InfiniteTimeSpan);
        rig.Keep(new GateTenant("urgent"), depth: 10, priority: 1, until: 60);
        rig.RunTo(1);
        var low = rig.Partition.Enter(new AdmissionRequest(Priority: 0));

        rig.RunTo(60);
        low.AssertWaiting();

        // The stream's last callers go, then the low one.
        rig.RunTo(63);
        Assert.True(low.Admitted().WaitTime > TimeSpan.FromSeconds(59));
    }

    [Fact]
    public void Acquire_SamePriorityAndTenant_FirstComeFirstServedAndRequeuedWorkFirst()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 1, LearnBudgets = false });
        var tenant = new GateTenant("t");
        var running = rig.Partition.Enter(new AdmissionRequest { Tenant = tenant }).Admitted();
        var first = rig.Partition.Enter(new AdmissionRequest { Tenant = tenant });
        var second = rig.Partition.Enter(new AdmissionRequest { Tenant = tenant });
        var requeued = rig.Partition.Enter(new AdmissionRequest(AtFront: true) { Tenant = tenant });

        running.Dispose();
        requeued.Admitted().Dispose();
        first.Admitted().Dispose();
        second.Admitted().Dispose();
    }

    [Fact]
    public void TryAcquire_WaiterAheadInFairShare_ReportsNoRoomWithoutAWaitButANewcomerFirstInLineGetsOne()
    {
        using var rig = new TenantRig(TenPerSecond());
        var a = new GateTenant("a");
        rig.Partition.Enter(new AdmissionRequest { Tenant = a }).Admitted().Dispose();
        var waiting = rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("b") });
        waiting.AssertWaiting();

        // a has had its turn, b has not: a ranks after b. A higher priority ranks before it, and needs only the budget.
        var behind = rig.Partition.TryAcquire(new AdmissionRequest { Tenant = a });
        var first = rig.Partition.TryAcquire(new AdmissionRequest(Priority: 1) { Tenant = a });

        Assert.Equal(GateRejectionReason.Unavailable, behind.Rejection);
        Assert.Null(behind.RetryAfter);
        Assert.Equal(GateRejectionReason.Unavailable, first.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(0.1), first.RetryAfter);
    }
}
