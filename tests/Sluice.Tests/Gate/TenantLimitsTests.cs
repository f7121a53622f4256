using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Tenants' own limits, the bounded tenant table, cancellation in tenant queues and tenant snapshots.</summary>
public sealed class TenantLimitsTests
{
    private static PartitionLimits HundredPerSecond() =>
        new() { MaxConcurrency = 10_000, RequestsPerWindow = 6_000, RequestBurst = 1, LearnBudgets = false, MaxQueueLength = 20_000 };

    [Fact]
    public void Acquire_TenantWithItsOwnRequestBudget_IsHeldToItWhileTheOtherTakesTheRest()
    {
        using var rig = new TenantRig(HundredPerSecond());
        rig.Keep(new GateTenant("capped") { Weight = 10, Limits = new TenantLimits { RequestsPerMinute = 60 } }, depth: 20);
        rig.Keep(new GateTenant("free"), depth: 20);

        rig.RunTo(120);

        Assert.True(rig.MaxInAnyWindow(60, "capped") <= 60, $"capped got {rig.MaxInAnyWindow(60, "capped")} in a minute");
        Assert.True(rig.MaxInAnyWindow(10, "capped") <= 10);
        foreach (var window in rig.Windows(10, 120, 10))
        {
            Assert.InRange(window["capped"], 9, 10);
            Assert.InRange(window["free"], 989, 991);
        }
    }

    [Fact]
    public void Acquire_TenantAtItsOwnConcurrency_WaitsWhileOthersStart()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 10, LearnBudgets = false });
        var one = new GateTenant("one") { Limits = new TenantLimits { MaxConcurrency = 1 } };
        var running = rig.Partition.Enter(new AdmissionRequest { Tenant = one }).Admitted();
        var second = rig.Partition.Enter(new AdmissionRequest { Tenant = one });
        var other = rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("other") });

        second.AssertWaiting();
        other.Admitted();
        running.Dispose();
        second.Admitted();
    }

    [Fact]
    public void Acquire_TenantWithItsOwnTokenBudget_WaitsForItsRefill()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 10, LearnBudgets = false });
        var small = new GateTenant("small") { Limits = new TenantLimits { TokensPerMinute = 6_000 } };
        rig.Partition.Enter(new AdmissionRequest(Tokens: 100) { Tenant = small }).Admitted().Dispose();
        var next = rig.Partition.Enter(new AdmissionRequest(Tokens: 100) { Tenant = small });

        next.AssertWaiting();
        rig.Time.Advance(TimeSpan.FromSeconds(0.99));
        next.AssertWaiting();
        rig.Time.Advance(TimeSpan.FromSeconds(0.01));
        next.Admitted();
    }

    [Fact]
    public void Acquire_TenantTableFullOfBusyTenants_RefusesANewTenantThenForgetsTheIdlestWhenOneIsFree()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 10, LearnBudgets = false }, maxTenants: 2);
        var a = rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("a") }).Admitted();
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        var b = rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("b") }).Admitted();

        var refused = rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("c") }).Rejected();
        Assert.Equal(GateRejectionReason.QueueFull, refused.Rejection);
        Assert.Contains("2 tenants", refused.RejectionMessage, StringComparison.Ordinal);

        b.Dispose();
        rig.Time.Advance(TimeSpan.FromSeconds(1));
        a.Dispose();

        // Both idle now: b was used less recently than a (a's release came later), so b is forgotten.
        rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("c") }).Admitted().Dispose();
        Assert.Equal(["a", "c"], rig.Partition.GetSnapshot().Tenants.Select(t => t.Name));
    }

    [Fact]
    public void Acquire_WaitersCancelledInTenantQueues_LeaveTheCountsRightAndTheRestInOrder()
    {
        using var rig = new TenantRig(new PartitionLimits { MaxConcurrency = 1, LearnBudgets = false });
        var a = new GateTenant("a");
        var b = new GateTenant("b");
        var running = rig.Partition.Enter(new AdmissionRequest { Tenant = a }).Admitted();
        using var cancelA = new CancellationTokenSource();
        using var cancelB = new CancellationTokenSource();
        var a1 = rig.Partition.Enter(new AdmissionRequest { Tenant = a }, cancelA.Token);
        var a2 = rig.Partition.Enter(new AdmissionRequest { Tenant = a });
        var b1 = rig.Partition.Enter(new AdmissionRequest { Tenant = b }, cancelB.Token);

        cancelA.Cancel();
        cancelB.Cancel();

        Assert.True(a1.IsCanceled);
        Assert.True(b1.IsCanceled);
        var snapshot = rig.Partition.GetSnapshot();
        Assert.Equal(1, snapshot.Queued);
        Assert.Equal([(1, 1), (0, 0)], snapshot.Tenants.Select(t => (t.InFlight, t.Waiting)));
        Assert.Null(snapshot.Tenants[1].ShareDue);

        running.Dispose();
        a2.Admitted().Dispose();
        Assert.Equal(0, rig.Partition.GetSnapshot().Queued);
    }

    [Fact]
    public void GetSnapshot_TwoBusyTenants3To1_ShowsWeightsCountsAndShares()
    {
        using var rig = new TenantRig(HundredPerSecond());
        rig.Keep(new GateTenant("heavy") { Weight = 3 }, depth: 20);
        rig.Keep(new GateTenant("light"), depth: 20, until: 60);
        rig.RunTo(30);

        var busy = rig.Partition.GetSnapshot().Tenants;

        Assert.Equal(["heavy", "light"], busy.Select(t => t.Name));
        Assert.Equal([3.0, 1.0], busy.Select(t => t.Weight));
        Assert.Equal([20, 20], busy.Select(t => t.Waiting));
        Assert.InRange(busy.Sum(t => t.Admitted), 2_999, 3_001);
        Assert.InRange(busy[0].ShareReceived, 0.73, 0.77);
        Assert.InRange(busy[1].ShareReceived, 0.23, 0.27);
        Assert.Equal(0.75, busy[0].ShareDue);
        Assert.Equal(0.25, busy[1].ShareDue);

        // Light stops at 60 s; 30 s later (three decay times) its share received has all but gone.
        rig.RunTo(90);
        var after = rig.Partition.GetSnapshot().Tenants;
        Assert.True(after[1].ShareReceived < 0.06, $"light's share is {after[1].ShareReceived}");
        Assert.Null(after[1].ShareDue);
        Assert.Equal(1.0, after[0].ShareDue);
    }

    [Fact]
    public void GetSnapshot_DefaultTenant_ListedOnlyOnceUsed()
    {
        using var rig = new TenantRig(new PartitionLimits { LearnBudgets = false });
        Assert.Empty(rig.Partition.GetSnapshot().Tenants);

        rig.Partition.Enter(new AdmissionRequest()).Admitted().Dispose();

        var tenant = Assert.Single(rig.Partition.GetSnapshot().Tenants);
        Assert.Equal(("default", 1.0, 1L), (tenant.Name, tenant.Weight, tenant.Admitted));
    }

    [Fact]
    public void Acquire_SameNameWithAnotherWeight_ReplacesTheWeight()
    {
        using var rig = new TenantRig(new PartitionLimits { LearnBudgets = false });
        rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("t") { Weight = 2 } }).Admitted().Dispose();
        rig.Partition.Enter(new AdmissionRequest { Tenant = new GateTenant("t") { Weight = 5 } }).Admitted().Dispose();

        Assert.Equal(5, Assert.Single(rig.Partition.GetSnapshot().Tenants).Weight);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\nb")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345")]
    public void GateTenant_InvalidName_Throws(string name) =>
        Assert.ThrowsAny<ArgumentException>(() => new GateTenant(name));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(1000.5)]
    [InlineData(double.NaN)]
    public void GateTenant_InvalidWeight_Throws(double weight) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GateTenant("t") { Weight = weight });

    [Fact]
    public void TenantLimits_InvalidValues_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TenantLimits { MaxConcurrency = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TenantLimits { RequestsPerMinute = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new TenantLimits { TokensPerMinute = double.PositiveInfinity });
    }

    [Fact]
    public void Create_InvalidTenantOptions_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SluiceGate.Create(new GateOptions { MaxTenants = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SluiceGate.Create(new GateOptions { PriorityAging = TimeSpan.Zero }));
    }
}
