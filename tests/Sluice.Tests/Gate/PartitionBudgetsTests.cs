using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The budget policy on its own: no lock, no clock; time is a plain number of milliseconds.</summary>
public sealed class PartitionBudgetsTests
{
    private const long Hz = 1_000;

    [Fact]
    public void WakeTime_WithoutBudgets_IsTheWakeItWasGiven()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.Equal(0, budgets.WakeTime(new BudgetCost(1_000, 1_000, 1_000), 0, 0));
        Assert.Equal(7, budgets.WakeTime(new BudgetCost(1_000, 0, 0), 7, 0));
        Assert.Empty(budgets.Snapshot(0, out _, out _));
    }

    [Fact]
    public void WakeTime_IsTheLatestOverEveryBudget()
    {
        // Requests: 60 a minute, burst 1 (one a second). Tokens: 6,000 a minute (100 a second), burst 1,000.
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1, TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(900, 0, 0), 0);

        // The request budget alone needs 1 s; 500 tokens need 4 s more of refill.
        Assert.Equal(1_000, budgets.WakeTime(new BudgetCost(0, 0, 0), 0, 0));
        Assert.Equal(4_000, budgets.WakeTime(new BudgetCost(500, 0, 0), 0, 0));
        Assert.Equal(9_000, budgets.WakeTime(new BudgetCost(500, 0, 0), 9_000, 0));
        Assert.Equal(long.MaxValue, budgets.WakeTime(new BudgetCost(500, 0, 0), long.MaxValue, 0));
    }

    [Fact]
    public void WakeTime_ForInputAndOutput_UsesTheirOwnBudgets()
    {
        // 6,000 a minute each: 100 a second, and a second's worth of burst.
        var budgets = Budgets(new PartitionLimits { InputTokensPerWindow = 6_000, OutputTokensPerWindow = 12_000 });
        budgets.Spend(new BudgetCost(0, 100, 200), 0);

        Assert.Equal(500, budgets.WakeTime(new BudgetCost(0, 50, 0), 0, 0));
        Assert.Equal(250, budgets.WakeTime(new BudgetCost(0, 0, 50), 0, 0));
        Assert.Equal(0, budgets.WakeTime(new BudgetCost(5_000, 0, 0), 0, 0));
    }

    [Fact]
    public void Spend_ThenSettle_RefundsAndChargesTheDayEntryItReturned()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerDay = 10_000, TokensPerWindow = 600_000 });

        long entry = budgets.Spend(new BudgetCost(4_000, 0, 0), 0);
        long none = budgets.Spend(new BudgetCost(0, 0, 0), 0);
        budgets.Settle(BudgetDimension.Tokens, -3_000, entry, 0);

        Assert.True(entry >= 0);
        Assert.Equal(-1, none);
        var day = Dimension(budgets, BudgetDimension.TokensPerDay);
        Assert.Equal(9_000, day.Available, precision: 6);
        var perMinute = Dimension(budgets, BudgetDimension.Tokens);
        Assert.Equal(10_000 - 1_000, perMinute.Available, precision: 6);

        budgets.Settle(BudgetDimension.Tokens, 20_000, entry, 0);
        Assert.Equal(10_000 - 1_000 - 20_000, Dimension(budgets, BudgetDimension.Tokens).Available, precision: 6);
        Assert.Equal(-11_000, Dimension(budgets, BudgetDimension.TokensPerDay).Available, precision: 6);
    }

    [Fact]
    public void Settle_ARefund_NeverFillsABudgetAboveItsCapacity()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(100, 0, 0), 0);

        budgets.Settle(BudgetDimension.Tokens, -5_000, -1, 0);

        Assert.Equal(1_000, Dimension(budgets, BudgetDimension.Tokens).Available, precision: 6);
    }

    [Fact]
    public void Settle_RefillsUpToNowBeforeCorrecting()
    {
        // Spent to 0 at t=0; by t=5 s, 500 tokens are back; a charge of 200 leaves 300, not -200.
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(1_000, 0, 0), 0);

        budgets.Settle(BudgetDimension.Tokens, 200, -1, 5_000);

        Assert.Equal(300, Dimension(budgets, BudgetDimension.Tokens, now: 5_000).Available, precision: 6);
    }

    [Fact]
    public void ObserveRequests_AStatedLimitBelowTheConfiguredOne_IsAdopted_AndAHigherOneIsNot()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600 });

        Assert.False(budgets.ObserveRequests(remaining: 900, limit: 1_000, resetAt: 60_000, now: 0));
        Assert.Equal(BudgetSource.Configured, budgets.RequestSource);
        Assert.Equal(10, budgets.RequestRate!.Value, precision: 9);

        Assert.True(budgets.ObserveRequests(remaining: 300, limit: 300, resetAt: 60_000, now: 0));
        Assert.Equal(BudgetSource.Headers, budgets.RequestSource);
        Assert.Equal(5, budgets.RequestRate!.Value, precision: 9);

        // The same statement again changes nothing.
        Assert.False(budgets.ObserveRequests(remaining: 300, limit: 300, resetAt: 60_000, now: 0));
    }

    [Fact]
    public void ObserveRequests_WhenLearningIsOff_KeepsTheConfiguredBudget_ButStillLowersWhatIsLeft()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 10, LearnBudgets = false });

        Assert.False(budgets.ObserveRequests(remaining: 2, limit: 300, resetAt: 60_000, now: 0));

        Assert.Equal(BudgetSource.Configured, budgets.RequestSource);
        Assert.Null(budgets.Probe);
        Assert.Equal(2, Dimension(budgets, BudgetDimension.Requests).Available, precision: 6);
    }

    [Fact]
    public void ObserveTokens_ALearnedBudget_AppliesToThatDimensionOnly()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.ObserveTokens(BudgetDimension.OutputTokens, remaining: 8_000, limit: 8_000, resetAt: 1_000, now: 0, countedSince: null));

        Assert.Null(budgets.TokenRate(BudgetDimension.Tokens));
        Assert.Null(budgets.TokenRate(BudgetDimension.InputTokens));
        Assert.Equal(8_000 / 60.0, budgets.TokenRate(BudgetDimension.OutputTokens)!.Value, precision: 9);
        Assert.Equal(BudgetSource.Headers, Dimension(budgets, BudgetDimension.OutputTokens).Source);
    }

    [Fact]
    public void ObserveDay_AStatedLimit_BecomesAPerDayBudget_ReportedAsStated()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerDay = 20_000 });

        Assert.True(budgets.ObserveDay(BudgetDimension.RequestsPerDay, remaining: 14_000, limit: 14_400, resetAt: 3_600_000, now: 0));

        var day = Dimension(budgets, BudgetDimension.RequestsPerDay);
        Assert.Equal(14_400, day.Limit);
        Assert.Equal(BudgetSource.Headers, day.Source);
        Assert.Equal(14_000, day.Available, precision: 6);
    }

    [Fact]
    public void AbsorbUnstatedThrottle_WithoutARequestBudget_LeavesThePauseToThePartition()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });

        Assert.False(budgets.AbsorbUnstatedThrottle(newEvent: true, now: 0));

        // The token budget is emptied and its burst halved: 500 tokens take 5 s.
        Assert.Equal(0, Dimension(budgets, BudgetDimension.Tokens).Available, precision: 6);
        Assert.Equal(5_000, budgets.WakeTime(new BudgetCost(1_000, 0, 0), 0, 0));
    }

    [Fact]
    public void AbsorbUnstatedThrottle_WithARequestBudget_EmptiesIt_AndHalvesItsBurstOnANewEvent()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 8 });

        Assert.True(budgets.AbsorbUnstatedThrottle(newEvent: true, now: 0));
        Assert.Equal(0, Dimension(budgets, BudgetDimension.Requests).Available, precision: 6);
        Assert.Equal(4, Dimension(budgets, BudgetDimension.Requests, now: 10_000).Available, precision: 6);

        Assert.True(budgets.AbsorbUnstatedThrottle(newEvent: false, now: 10_000));
        Assert.Equal(4, Dimension(budgets, BudgetDimension.Requests, now: 20_000).Available, precision: 6);
    }

    [Fact]
    public void Throttled_WithoutLearning_LearnsNothing()
    {
        var budgets = Budgets(new PartitionLimits { LearnBudgets = false });

        Assert.Null(budgets.Throttled(admission: 1, admittedAt: 0, now: 10));
        Assert.Null(budgets.RequestRate);
    }

    [Fact]
    public void Configure_NewLimits_ReplaceTheBudgets_AndKeepWhatIsLeft()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        budgets.Spend(new BudgetCost(800, 0, 0), 0);

        Assert.True(budgets.Configure(new PartitionLimits { TokensPerWindow = 12_000, TokenBurst = 2_000 }, 0));
        Assert.False(budgets.Configure(new PartitionLimits { TokensPerWindow = 12_000, TokenBurst = 2_000 }, 0));

        // 200 left; now 200 a second: 1,000 tokens in 4 s.
        Assert.Equal(4_000, budgets.WakeTime(new BudgetCost(1_000, 0, 0), 0, 0));
        Assert.True(budgets.Configure(new PartitionLimits(), 0));
        Assert.Null(budgets.TokenRate(BudgetDimension.Tokens));
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
