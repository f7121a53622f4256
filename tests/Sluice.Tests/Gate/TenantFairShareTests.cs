using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Weighted fair queuing among a partition's tenants, on a fake clock.</summary>
public sealed class TenantFairShareTests
{
    private static readonly GateTenant Heavy = new("heavy") { Weight = 3 };
    private static readonly GateTenant Light = new("light") { Weight = 1 };

    // 100 requests a second, a burst of one: any 10 s holds at most 1,000 admissions.
    private static PartitionLimits RequestBudget() =>
        new() { MaxConcurrency = 10_000, RequestsPerWindow = 6_000, RequestBurst = 1, LearnBudgets = false, MaxQueueLength = 20_000 };

    [Fact]
    public void Acquire_TwoTenantsWeighted3To1_ShareTheRequestBudget75To25InEveryWindow()
    {
        using var rig = new TenantRig(RequestBudget());
        rig.Keep(Heavy, depth: 20);
        rig.Keep(Light, depth: 20);

        rig.RunTo(100);

        foreach (var window in rig.Windows(10, 100, 10))
        {
            double total = window.Values.Sum();
            Assert.InRange(total, 990, 1_000);
            Assert.InRange(window["heavy"] / total, 0.75 * 0.95, 0.75 * 1.05);
            Assert.InRange(window["light"] / total, 0.25 * 0.95, 0.25 * 1.05);
        }

        Assert.True(rig.MaxInAnyWindow(10) <= 1_000, $"the budget allows 1,000 in 10 s; a window held {rig.MaxInAnyWindow(10)}");
    }

    [Fact]
    public void Acquire_TwoTenantsWithMixedSizes_ShareTheTokenBudgetByTokens()
    {
        // 10,000 tokens a second; requests of 50 to 500 tokens, each using 60-100% of what it reserved.
        var limits = new PartitionLimits { MaxConcurrency = 10_000, TokensPerWindow = 600_000, TokenBurst = 500, LearnBudgets = false, MaxQueueLength = 20_000 };
        using var rig = new TenantRig(limits);
        var random = new Random(7);
        rig.Keep(Heavy, depth: 20, tokens: () => random.Next(50, 501), settle: asked => asked * random.Next(60, 101) / 100);
        rig.Keep(Light, depth: 20, tokens: () => random.Next(50, 501), settle: asked => asked * random.Next(60, 101) / 100);

        rig.RunTo(100);

        foreach (var window in rig.Windows(10, 100, 10, tokens: true))
        {
            double total = window.Values.Sum();
            Assert.InRange(window["heavy"] / total, 0.75 * 0.95, 0.75 * 1.05);
            Assert.InRange(window["light"] / total, 0.25 * 0.95, 0.25 * 1.05);
        }

        // Settled tokens never exceed the budget: 100,000 in any 10 s, plus the 500-token burst.
        Assert.True(rig.MaxInAnyWindow(10, tokens: true) <= 100_500, $"a window used {rig.MaxInAnyWindow(10, tokens: true)} tokens");
    }

    [Fact]
    public void Acquire_OneTenantIdle_TheOtherGetsTheWholeBudget()
    {
        using var rig = new TenantRig(RequestBudget());
        rig.Keep(Light, depth: 20);
        rig.Keep(Heavy, depth: 20, until: 10);

        rig.RunTo(40);

        // Once the heavy tenant's last callers are through, the light one (weight 1 of 4) gets all 100 a second.
        foreach (var window in rig.Windows(20, 40, 10))
        {
            Assert.Equal(1_000, window["light"]);
            Assert.False(window.ContainsKey("heavy"));
        }
    }

    [Fact]
    public void Acquire_IdleTenantReturns_GetsItsShareWithoutABurstOfCredit()
    {
        using var rig = new TenantRig(RequestBudget());
        var returning = new GateTenant("returning");
        rig.Keep(new GateTenant("steady"), depth: 20);
        rig.Keep(returning, depth: 20, until: 5);
        rig.RunTo(60);

        // Equal weights: back after 55 s away, it is due half of each second, not the time it missed.
        rig.Keep(returning, depth: 20);
        rig.RunTo(70);

        foreach (var second in rig.Windows(60, 70, 1))
        {
            Assert.InRange(second["returning"], 49, 51);
            Assert.InRange(second["steady"], 49, 51);
        }
    }

    [Fact]
    public void Acquire_InteractiveTenantBesideABacklog_WaitsAtMostOneAdmissionInterval()
    {
        // 10 requests a second; a batch tenant queues 10,000 at once, the interactive one asks once a second.
        var limits = new PartitionLimits { MaxConcurrency = 10_000, RequestsPerWindow = 600, RequestBurst = 1, LearnBudgets = false, MaxQueueLength = 20_000 };
        using var rig = new TenantRig(limits);
        var batch = new GateTenant("batch");
        var interactive = new GateTenant("interactive");
        var backlog = Enumerable.Range(0, 10_000).Select(_ => rig.Partition.Enter(new AdmissionRequest { Tenant = batch })).ToList();
        var interval = TimeSpan.FromSeconds(0.1);

        for (int second = 1; second <= 60; second++)
        {
            rig.RunTo(second - 0.037);
            var asked = rig.Partition.Enter(new AdmissionRequest { Tenant = interactive });
            var askedAt = rig.Time.GetUtcNow();
            for (int step = 0; step < 40 && !asked.IsCompleted; step++)
            {
                rig.Time.Advance(TimeSpan.FromMilliseconds(5));
            }

            using var lease = asked.Admitted();
            Assert.True(lease.WaitTime <= interval + TimeSpan.FromMilliseconds(1), $"waited {lease.WaitTime} at second {second}");
            Assert.True(rig.Time.GetUtcNow() - askedAt <= interval + TimeSpan.FromMilliseconds(5));
        }

        Assert.True(backlog.Count(t => !t.IsCompleted) > 9_000, "the backlog is still waiting");
    }

    [Fact]
    public void Acquire_SettledBelowTheEstimate_CorrectsTheTenantsAccount()
    {
        // Both reserve 1,000 tokens; "frugal" uses 100 of them, so by tokens it is due the same and gets far more admissions.
        var limits = new PartitionLimits { MaxConcurrency = 10_000, TokensPerWindow = 600_000, TokenBurst = 1_000, LearnBudgets = false };
        using var rig = new TenantRig(limits);
        rig.Keep(new GateTenant("frugal"), depth: 10, tokens: () => 1_000, settle: _ => 100);
        rig.Keep(new GateTenant("full"), depth: 10, tokens: () => 1_000, settle: asked => asked);

        rig.RunTo(30);

        foreach (var window in rig.Windows(10, 30, 10, tokens: true))
        {
            double total = window.Values.Sum();
            Assert.InRange(window["frugal"] / total, 0.45, 0.55);
        }
    }
}
