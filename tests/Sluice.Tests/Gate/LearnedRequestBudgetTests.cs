using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// The request budget the 429 probe learns, as the partition's budgets hold it: when it is put in force, how it
/// follows the probe's curve, and what a later refusal or reconfiguration does to it.
/// </summary>
public sealed class LearnedRequestBudgetTests
{
    private const long Hz = 1_000;

    [Fact]
    public void Throttled_TheFirstRefusal_PutsALearnedBudgetInForce_StartingEmpty()
    {
        var budgets = Refused(new PartitionLimits());

        Assert.Equal(BudgetSource.Throttling, budgets.RequestSource);
        Assert.Equal(3, budgets.RequestRate!.Value, precision: 9);
        Assert.Equal(0, Dimension(budgets, BudgetDimension.Requests).Available, precision: 6);
    }

    [Fact]
    public void Throttled_ReturnsTheLearnedRate()
    {
        var budgets = Started(new PartitionLimits(), 4);

        // Four started in the first second, one refused: three a second.
        Assert.Equal(3, budgets.Throttled(admission: 4, admittedAt: 0, now: 0)!.Value, precision: 9);
    }

    [Fact]
    public void Throttled_WhenAConfiguredBudgetStaysInForce_ReturnsNothing_AndLeavesItsBurst()
    {
        // The probe's first rate is a lower bound: no evidence against the configured 600 a minute.
        var budgets = Started(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 10 }, 4);

        Assert.Null(budgets.Throttled(admission: 4, admittedAt: 0, now: 0));

        Assert.Equal(BudgetSource.Configured, budgets.RequestSource);
        Assert.Equal(6, Dimension(budgets, BudgetDimension.Requests).Available, precision: 6);
    }

    [Fact]
    public void Throttled_ARefusalOfTheSameEvent_ReturnsNothing_AndDoesNotEmptyTheBudgetAgain()
    {
        var budgets = Refused(new PartitionLimits());
        Assert.Equal(1.5, Dimension(budgets, BudgetDimension.Requests, now: 500).Available, precision: 6);

        // Admitted at 0, before the event the first refusal marked: the same event.
        Assert.Null(budgets.Throttled(admission: 3, admittedAt: 0, now: 500));

        Assert.Equal(1.5, Dimension(budgets, BudgetDimension.Requests, now: 500).Available, precision: 6);
    }

    [Fact]
    public void FollowProbe_MovesTheLearnedBudgetAlongTheRamp()
    {
        var budgets = Refused(new PartitionLimits());

        budgets.FollowProbe(1_000);

        // The lower bound doubles every half second: 3, then 12 a second after one second.
        Assert.Equal(12, budgets.RequestRate!.Value, precision: 9);
    }

    [Fact]
    public void Configure_AgainWithLearningOn_KeepsWhatTheProbeLearned()
    {
        var budgets = Refused(new PartitionLimits());
        var probe = budgets.Probe;

        budgets.Configure(new PartitionLimits(), 0);

        Assert.Same(probe, budgets.Probe);
        Assert.Equal(BudgetSource.Throttling, budgets.RequestSource);
        Assert.Equal(3, budgets.RequestRate!.Value, precision: 9);
    }

    [Fact]
    public void ObserveRequests_TheSameStatedLimitAgain_IsNoNews_AndAProbeAtHalfTheStatedBudgetGivesWay()
    {
        // Headers state 1,200 a minute (20 a second). Three refusals: a lower bound, a cut, then a measurement of 10
        // a second over the last second, and the probe paces at 0.9 x 10, well below the stated 20. Six seconds on,
        // its curve is back at 10, exactly half the stated budget: not "well below" any more, so the stated budget
        // returns, once the probe's curve is followed; the same header again is no news.
        var budgets = new PartitionBudgets(Hz);
        budgets.Configure(new PartitionLimits(), 0);
        budgets.ObserveRequests(remaining: 1_200, limit: 1_200, resetAt: 0, now: 0);
        Start(budgets, 4, now: 0);
        budgets.Throttled(admission: 4, admittedAt: 0, now: 0);
        Start(budgets, 1, now: 1);
        budgets.Throttled(admission: 5, admittedAt: 1, now: 1);
        Start(budgets, 10, now: 1_001);
        Assert.Equal(9, budgets.Throttled(admission: 15, admittedAt: 1_001, now: 1_001)!.Value, precision: 6);
        Assert.Equal(BudgetSource.Throttling, budgets.RequestSource);

        Assert.False(budgets.ObserveRequests(remaining: 1_200, limit: 1_200, resetAt: 7_001, now: 7_001));
        Assert.Equal(BudgetSource.Throttling, budgets.RequestSource);

        budgets.FollowProbe(7_001);
        Assert.Equal(BudgetSource.Headers, budgets.RequestSource);
        Assert.Equal(20, budgets.RequestRate!.Value, precision: 9);
    }

    // Four requests start at t=0; the fourth is refused at t=0.
    private static PartitionBudgets Refused(PartitionLimits limits)
    {
        var budgets = Started(limits, 4);
        budgets.Throttled(admission: 4, admittedAt: 0, now: 0);
        return budgets;
    }

    private static PartitionBudgets Started(PartitionLimits limits, int count)
    {
        var budgets = new PartitionBudgets(Hz);
        budgets.Configure(limits, 0);
        Start(budgets, count, now: 0);
        return budgets;
    }

    private static void Start(PartitionBudgets budgets, int count, long now)
    {
        for (int i = 0; i < count; i++)
        {
            budgets.Spend(new BudgetCost(0, 0, 0), now);
        }
    }

    private static BudgetSnapshot Dimension(PartitionBudgets budgets, BudgetDimension dimension, long now = 0) =>
        budgets.Snapshot(now, out _, out _).Single(b => b.Dimension == dimension);
}
