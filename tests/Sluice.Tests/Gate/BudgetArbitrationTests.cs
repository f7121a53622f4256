using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// Which budget is in force when configuration, headers and per-day limits meet, and what a reconfiguration reports
/// as changed; the budget policy on its own, time a plain number of milliseconds.
/// </summary>
public sealed class BudgetArbitrationTests
{
    private const long Hz = 1_000;

    [Fact]
    public void Configure_WithoutAnyBudget_ReportsNoSource()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.Null(budgets.RequestRate);
        Assert.Equal(BudgetSource.None, budgets.RequestSource);
        Assert.Equal(BudgetSource.None, budgets.TokenSource);
    }

    [Fact]
    public void ObserveRequests_AStatedLimitEqualToTheConfiguredOne_LeavesTheConfiguredSource()
    {
        // A tie is not stricter: the budget stays the operator's, as the snapshot shows.
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600 });

        Assert.False(budgets.ObserveRequests(remaining: 600, limit: 600, resetAt: 60_000, now: 0));

        Assert.Equal(BudgetSource.Configured, budgets.RequestSource);
        Assert.Equal(BudgetSource.Configured, Dimension(budgets, BudgetDimension.Requests).Source);
    }

    [Fact]
    public void Configure_NewRequestAndTokenBudgetsTogether_ReportsAChange()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.Configure(new PartitionLimits { RequestsPerWindow = 60, TokensPerWindow = 6_000 }, 0));
    }

    [Fact]
    public void Configure_NewTokenAndRequestsPerDayBudgetsTogether_ReportsAChange()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.Configure(new PartitionLimits { TokensPerWindow = 6_000, RequestsPerDay = 100 }, 0));
    }

    [Fact]
    public void Configure_NewTokenAndTokensPerDayBudgetsTogether_ReportsAChange()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.Configure(new PartitionLimits { TokensPerWindow = 6_000, TokensPerDay = 100_000 }, 0));
    }

    [Fact]
    public void Configure_WithoutThePerDayBudget_RemovesIt()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerDay = 1 });
        budgets.Spend(new BudgetCost(0, 0, 0), 0);

        Assert.True(budgets.Configure(new PartitionLimits(), 0));

        // The spent day no longer holds the next request back, and a second reconfiguration changes nothing.
        Assert.DoesNotContain(budgets.Snapshot(0, out _, out _), b => b.Dimension == BudgetDimension.RequestsPerDay);
        Assert.Equal(0, budgets.WakeTime(new BudgetCost(0, 0, 0), 0, 0));
        Assert.False(budgets.Configure(new PartitionLimits(), 0));
    }

    [Fact]
    public void Configure_TurningLearningOff_DropsTheStatedRequestBudget()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600 });
        budgets.ObserveRequests(remaining: 300, limit: 300, resetAt: 60_000, now: 0);
        Assert.Equal(BudgetSource.Headers, budgets.RequestSource);

        budgets.Configure(new PartitionLimits { RequestsPerWindow = 600, LearnBudgets = false }, 0);

        Assert.Null(budgets.Probe);
        Assert.Equal(BudgetSource.Configured, budgets.RequestSource);
        Assert.Equal(10, budgets.RequestRate!.Value, precision: 9);
    }

    [Fact]
    public void Configure_TurningLearningOff_DropsTheStatedTokenBudgets()
    {
        var budgets = Budgets(new PartitionLimits());
        budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 6_000, limit: 6_000, resetAt: 60_000, now: 0, countedSince: null);
        budgets.ObserveTokens(BudgetDimension.OutputTokens, remaining: 600, limit: 600, resetAt: 60_000, now: 0, countedSince: null);
        Assert.NotNull(budgets.TokenRate(BudgetDimension.Tokens));

        Assert.True(budgets.Configure(new PartitionLimits { LearnBudgets = false }, 0));

        Assert.Null(budgets.TokenRate(BudgetDimension.Tokens));
        Assert.Null(budgets.TokenRate(BudgetDimension.OutputTokens));
        Assert.Empty(budgets.Snapshot(0, out _, out _));
    }

    [Fact]
    public void WakeTime_ACostWithoutTokens_IsNotHeldByAnOverdrawnTokenBudget()
    {
        // A settlement charged 500 tokens more than the bucket held; a request that states no tokens still goes now.
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(1_000, 0, 0), 0);
        budgets.Settle(BudgetDimension.Tokens, 500, -1, 0);

        Assert.Equal(0, budgets.WakeTime(new BudgetCost(0, 0, 0), 0, 0));
        Assert.Equal(5_010, budgets.WakeTime(new BudgetCost(1, 0, 0), 0, 0));
    }

    [Fact]
    public void WakeTime_ACostWithoutTokens_IsNotHeldByAnOverdrawnTokensPerDayBudget()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerDay = 1_000 });
        long entry = budgets.Spend(new BudgetCost(1_000, 0, 0), 0);
        budgets.Settle(BudgetDimension.Tokens, 500, entry, 0);

        Assert.Equal(0, budgets.WakeTime(new BudgetCost(0, 0, 0), 0, 0));
        Assert.True(budgets.WakeTime(new BudgetCost(1, 0, 0), 0, 0) > 0);
    }

    [Fact]
    public void WakeTime_WhenABudgetWillNotRefillWithinAnyTimeSpan_IsNever()
    {
        // Overdrawn by 1e14 tokens at 100 a second: a wait beyond TimeSpan.MaxValue, which stays "never".
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Settle(BudgetDimension.Tokens, 100_000_000_000_000, -1, 0);

        Assert.Equal(long.MaxValue, budgets.WakeTime(new BudgetCost(1, 0, 0), 0, 0));
    }

    [Fact]
    public void Snapshot_ATokenBudget_ShowsWhatRefilledUpToNow()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(1_000, 0, 0), 0);

        Assert.Equal(500, Dimension(budgets, BudgetDimension.Tokens, now: 5_000).Available, precision: 6);
    }

    private static PartitionBudgets Budgets(PartitionLimits limits)
    {
        var budgets = new PartitionBudgets(Hz);
        budgets.Configure(limits, 0);
        return budgets;
    }

    private static BudgetSnapshot Dimension(PartitionBudgets budgets, BudgetDimension dimension, long now = 0) =>
        budgets.Snapshot(now, out _, out _).Single(b => b.Dimension == dimension);
}
