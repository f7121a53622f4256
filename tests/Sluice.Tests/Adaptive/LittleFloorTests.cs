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

    [Fact]
    public void Answered_KeepsAMovingMeanOfTheLatency_WeightingTheNewestSampleByTheSampleWeight()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);
        floor.Answered(admittedAt: 0, now: 8_000);
        floor.Answered(admittedAt: 2_000, now: 20_000);

        // 8 s, then 18 s: the mean moves a tenth of the way, to 9 s. 50 a second × 9 s × 1.5 = 675, and one.
        Assert.Equal(676, floor.Floor(50, 20_000));
    }

    [Fact]
    public void Answered_WithALatencyBelowZero_CountsItAsZero()
    {
        // Timestamps from two clocks, or a clock stepped back: no latency is negative, so no floor is.
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 5_000);
        floor.Answered(admittedAt: 5_000, now: 4_000);

        Assert.Equal(1, floor.Floor(50, 6_000));
    }

    [Fact]
    public void Admitted_KeepsAMovingMeanOfTheReservation_ForTheTokenRate()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(1_000, 0);
        floor.Admitted(2_000, 10);

        // The mean reservation moves a tenth of the way from 1,000 to 2,000: 1,100 tokens, so 11,000 a second is 10 requests.
        Assert.Equal(10, floor.BudgetRate(requestsPerSecond: null, tokensPerSecond: 11_000)!.Value, precision: 9);
    }

    [Fact]
    public void BudgetRate_WhenRequestsReserveNoTokens_IsTheRequestRateAlone()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);

        Assert.Equal(25, floor.BudgetRate(requestsPerSecond: 25, tokensPerSecond: 10_000));
        Assert.Null(floor.BudgetRate(requestsPerSecond: null, tokensPerSecond: 10_000));
    }

    [Fact]
    public void BeforeTheFirstAnswer_TheAgeIsCountedFromTheFirstAdmission_NotTheLatest()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 1_000);
        floor.Admitted(0, 4_000);

        // 4 s after the first admission: 10 a second × 4 s × 1.5 = 60, and one.
        Assert.Equal(61, floor.Floor(10, 5_000));
        Assert.Equal(0, new LittleFloor(TicksPerSecond).Floor(10, 5_000));
    }

    [Fact]
    public void ReachesAt_IsNull_WhenTheFloorDoesNotGrowWithTime()
    {
        var floor = new LittleFloor(TicksPerSecond);
        Assert.Null(floor.ReachesAt(limit: 100, budgetRate: 50, now: 0));   // nothing admitted: no age

        floor.Admitted(0, 0);
        Assert.Null(floor.ReachesAt(limit: 100, budgetRate: null, now: 0));
        Assert.Null(floor.ReachesAt(limit: 100, budgetRate: 0, now: 0));
        Assert.Null(floor.ReachesAt(limit: LittleFloor.MaxFloor + 1, budgetRate: 50, now: 0));
        Assert.NotNull(floor.ReachesAt(limit: LittleFloor.MaxFloor, budgetRate: 50, now: 0));
    }

    [Fact]
    public void ReachesAt_WhenTheFloorIsAlreadyThere_IsTheNextTick()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 0);

        // At 10 a second the floor passes 10 within the first second; asked at 60 s, the answer is now, one tick on.
        Assert.Equal(60_001, floor.ReachesAt(limit: 10, budgetRate: 10, now: 60_000));

        // A limit of 1 or 2 is reached by the floor's "and one" alone: one tick after the first admission.
        Assert.Equal(1, floor.ReachesAt(limit: 1, budgetRate: 10, now: 0));
        Assert.Equal(1, floor.ReachesAt(limit: 2, budgetRate: 10, now: 0));
    }

    [Fact]
    public void ReachesAt_IsExactlyWhenTheFloorFirstReachesTheLimit()
    {
        var floor = new LittleFloor(TicksPerSecond);
        floor.Admitted(0, 2_000);

        // 20 a second with headroom: 30 more in flight per second of age. The floor ceil(30 × age) + 1 reaches 61 once
        // 30 × age passes 59, at 1.9667 s of age: the first millisecond tick after that is 2,000 + 1,967.
        long at = floor.ReachesAt(limit: 61, budgetRate: 20, now: 2_000)!.Value;
        Assert.Equal(3_967, at);
        Assert.Equal(61, floor.Floor(20, at));
        Assert.Equal(60, floor.Floor(20, at - 1));
    }
}
