using Sluice.Adaptive;

namespace Sluice.Tests.Adaptive;

public sealed class LittleFloorTests
{
    private const long TicksPerSecond = 1000;

    [Fact]
    public void Floor_WithoutABudget_IsZero()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);
        floor.Answered(0, 8_000);

        Assert.Equal(0, floor.Floor(budgetRate: null, now: 8_000));
    }

    [Fact]
    public void Floor_IsTheRateTimesTheMeanLatencyWithHeadroom()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);
        floor.Answered(admittedAt: 0, now: 8_000);

        // 50 a second answered in 8 s on average need 400 in flight; with headroom, 600 and one.
        Assert.Equal((int)Math.Ceiling(50 * 8 * LittleFloor.Headroom) + 1, floor.Floor(50, 8_000));
    }

    [Fact]
    public void BeforeTheFirstAnswer_TheFloorGrowsWithTheAgeOfTheFirstRequest_AndSaysWhenItReachesALimit()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 1_000);

        Assert.Equal(1, floor.Floor(50, 1_000));
        Assert.Equal((int)Math.Ceiling(50 * 2 * LittleFloor.Headroom) + 1, floor.Floor(50, 3_000));

        long at = floor.ReachesAt(limit: 301, budgetRate: 50, now: 1_000)!.Value;
        Assert.True(floor.Floor(50, at) >= 301);
        Assert.True(floor.Floor(50, at - 1) < 301);

        floor.Answered(1_000, 2_000);
        Assert.Null(floor.ReachesAt(301, 50, 2_000));
    }

    [Fact]
    public void BudgetRate_IsTheStricterOfTheRequestRateAndTheTokenRateOverTheMeanReservation()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(1_000, 0);

        Assert.Equal(10, floor.BudgetRate(requestsPerSecond: 25, tokensPerSecond: 10_000));
        Assert.Equal(25, floor.BudgetRate(requestsPerSecond: 25, tokensPerSecond: 100_000));
        Assert.Equal(25, floor.BudgetRate(requestsPerSecond: 25, tokensPerSecond: null));
        Assert.Null(floor.BudgetRate(null, null));
    }

    [Fact]
    public void Floor_NeverAsksForMoreThanTheMaximum()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);
        floor.Answered(0, 60_000);

        Assert.Equal(LittleFloor.MaxFloor, floor.Floor(1_000, 60_000));
    }
}
