using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// What the share learned from the provider's counts (<see cref="PeerShare"/>) changes in a partition's budgets: the
/// request and token buckets refill at the budget times the share; a 429 cuts it; counts without the admission they
/// belong to, or a partition that learns nothing, leave it whole. Timestamps are milliseconds.
/// </summary>
public sealed class PeerShareBudgetsTests
{
    private const long Hz = 1_000;

    [Fact]
    public void ObserveRequests_CountsShowingOthersOnTheKey_RefillOurBucketAtOurShare()
    {
        // The provider allows 600 a minute (10 a second, a second's burst). We spend 2.5 a second while its bucket
        // stays half full: the others spend the rest.
        var budgets = Budgets(new PartitionLimits());
        long now = 0;
        budgets.ObserveRequests(remaining: 5, limit: 600, resetAt: 500, now: 0, countedAt: 0);
        for (; now <= 30_000; now += 400)
        {
            budgets.Spend(default, now);
            if (now % 2_000 == 0)
            {
                budgets.ObserveRequests(remaining: 5, limit: 600, resetAt: now + 500, now: now, countedAt: now);
            }
        }

        Assert.Equal(0.25, budgets.RequestShare, precision: 2);
        Assert.Equal(10, budgets.RequestRate!.Value, precision: 6); // the budget in force is still the provider's

        // Drained, the bucket takes one request's time at our share to hold one again: 1 / (10 × share) seconds.
        while (budgets.WakeTime(default, now, now) == now)
        {
            budgets.Spend(default, now);
        }

        double seconds = (budgets.WakeTime(default, now, now) - now) / (double)Hz;
        Assert.Equal(1 / (10 * budgets.RequestShare), seconds, precision: 2);
    }

    [Fact]
    public void ObserveTokens_CountsShowingOthersOnTheKey_RefillTheTokenBucketAtOurShare()
    {
        // 60,000 tokens a minute; we spend 250 a second of its 1,000 while its bucket stays half full.
        var budgets = Budgets(new PartitionLimits());
        var cost = new BudgetCost(100, 0, 0);
        budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 500, limit: 60_000, resetAt: 500, now: 0, countedSince: null, countedAt: 0);
        for (long now = 0; now <= 30_000; now += 400)
        {
            budgets.Spend(cost, now);
            if (now % 2_000 == 0)
            {
                budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 500, limit: 60_000, resetAt: now + 500, now: now, countedSince: null, countedAt: now);
            }
        }

        Assert.Equal(0.25, budgets.TokenShare(BudgetDimension.Tokens), precision: 2);
        Assert.Equal(1, budgets.RequestShare); // no request count came: the request budget is not shared
    }

    [Fact]
    public void Throttled_OnceTheProviderHasCounted_HalvesTheShare()
    {
        var budgets = Budgets(new PartitionLimits());
        budgets.Spend(default, 0);
        budgets.ObserveRequests(remaining: 9, limit: 600, resetAt: 100, now: 10, countedAt: 0);

        budgets.Throttled(admission: 2, admittedAt: 20, cost: default, now: 21);

        Assert.Equal(PeerShare.ThrottleCut, budgets.RequestShare, precision: 9);
    }

    [Fact]
    public void Throttled_BeforeAnyCount_LeavesTheShareWhole()
    {
        // Nothing says others spend the budget (a limiter that states no count: the 429 probe's business).
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600 });
        budgets.Spend(default, 0);

        budgets.Throttled(admission: 1, admittedAt: 0, cost: default, now: 1);

        Assert.Equal(1, budgets.RequestShare);
    }

    [Fact]
    public void ObserveRequests_WithoutTheAdmissionItCounted_LeavesTheShareWhole()
    {
        // A count from GatePartition.ObserveRequests (a caller's own reading) belongs to no admission of ours.
        var budgets = Budgets(new PartitionLimits());
        for (long now = 0; now <= 10_000; now += 100)
        {
            budgets.Spend(default, now);
            budgets.ObserveRequests(remaining: 0, limit: 600, resetAt: now + 1_000, now: now);
        }

        Assert.Equal(1, budgets.RequestShare);
    }

    [Fact]
    public void LearnBudgetsOff_KeepsNoShare()
    {
        var budgets = Budgets(new PartitionLimits { LearnBudgets = false, RequestsPerWindow = 600 });
        for (long now = 0; now <= 10_000; now += 100)
        {
            budgets.Spend(default, now);
            budgets.ObserveRequests(remaining: 0, limit: 600, resetAt: now + 1_000, now: now, countedAt: now);
        }

        budgets.Throttled(admission: 200, admittedAt: 10_000, cost: default, now: 10_001);

        Assert.Equal(1, budgets.RequestShare);
    }

    private static PartitionBudgets Budgets(PartitionLimits limits)
    {
        var budgets = new PartitionBudgets(Hz);
        budgets.Configure(limits, 0);
        return budgets;
    }
}
