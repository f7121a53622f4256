using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>What the provider's rate-limit headers change in a partition's budgets: stated limits and what is left.</summary>
public sealed class ProviderBudgetObservationTests
{
    private const long Hz = 1_000;

    [Fact]
    public void ObserveRequests_WithoutAStatedLimit_ReadsWhatIsLeftAgainstOurPerMinuteBudget()
    {
        // 600 a minute configured; the provider says none is left until a reset a minute away. Measured against our
        // 600 a minute, that is our own pace: the bucket refills at 10 a second, not slower.
        var budgets = Budgets(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 10 });

        budgets.ObserveRequests(remaining: 0, limit: null, resetAt: 60_000, now: 0);

        Assert.Equal(0, Dimension(budgets, BudgetDimension.Requests).Available, precision: 6);
        Assert.Equal(10, Dimension(budgets, BudgetDimension.Requests, now: 1_000).Available, precision: 6);
    }

    [Fact]
    public void ObserveTokens_WithoutAStatedLimit_ReadsWhatIsLeftAgainstOurPerMinuteBudget()
    {
        var budgets = Budgets(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 100 });

        budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 0, limit: null, resetAt: 60_000, now: 0, countedSince: null);

        Assert.Equal(0, Dimension(budgets, BudgetDimension.Tokens).Available, precision: 6);
        Assert.Equal(100, Dimension(budgets, BudgetDimension.Tokens, now: 1_000).Available, precision: 6);
    }

    [Fact]
    public void ObserveTokens_TheSameStatedLimitAgain_ChangesNothing()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 5_000, limit: 6_000, resetAt: 60_000, now: 0, countedSince: null));
        Assert.False(budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 4_000, limit: 6_000, resetAt: 60_000, now: 0, countedSince: null));
    }

    [Fact]
    public void ObserveTokens_WhenLearningIsOff_LearnsNothing()
    {
        var budgets = Budgets(new PartitionLimits { LearnBudgets = false });

        Assert.False(budgets.ObserveTokens(BudgetDimension.Tokens, remaining: 5_000, limit: 6_000, resetAt: 60_000, now: 0, countedSince: null));
        Assert.Null(budgets.TokenRate(BudgetDimension.Tokens));
    }

    [Fact]
    public void ObserveDay_TheSameStatedLimitAgain_ChangesNothing()
    {
        var budgets = Budgets(new PartitionLimits());

        Assert.True(budgets.ObserveDay(BudgetDimension.TokensPerDay, remaining: 90_000, limit: 100_000, resetAt: 3_600_000, now: 0));
        Assert.False(budgets.ObserveDay(BudgetDimension.TokensPerDay, remaining: 80_000, limit: 100_000, resetAt: 3_600_000, now: 0));
    }

    [Fact]
    public void ObserveDay_TokensLeft_LowerTheTokensPerDayBudgetOnly()
    {
        var budgets = Budgets(new PartitionLimits { RequestsPerDay = 1_000, TokensPerDay = 100_000 });

        budgets.ObserveDay(BudgetDimension.TokensPerDay, remaining: 40_000, limit: null, resetAt: 3_600_000, now: 0);

        Assert.Equal(40_000, Dimension(budgets, BudgetDimension.TokensPerDay).Available, precision: 6);
        Assert.Equal(1_000, Dimension(budgets, BudgetDimension.RequestsPerDay).Available, precision: 6);
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
