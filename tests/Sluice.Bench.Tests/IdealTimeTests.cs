using Sluice.Efficiency.Measure;
using Sluice.Efficiency.Scenarios;

namespace Sluice.Bench.Tests;

/// <summary>The arithmetic behind bench/efficiency's ideal time, efficiency and targets.</summary>
public sealed class IdealTimeTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(300);

    [Fact]
    public void For_RequestBudgetOnly_IsRequestsOverRatePlusLatency()
    {
        var ideal = IdealTime.For(500, 30_000, [new BudgetStep(TimeSpan.Zero, 1_500, null)], Latency);

        Assert.Equal(20.3, ideal.TotalSeconds, precision: 9);
    }

    [Fact]
    public void For_TokenBudgetBinds_UsesTokensOverTokenRate()
    {
        // 600 requests at 6,000/min take 6 s; 360,000 tokens at 1,200,000/min take 18 s: tokens bind.
        var ideal = IdealTime.For(600, 360_000, [new BudgetStep(TimeSpan.Zero, 6_000, 1_200_000)], Latency);

        Assert.Equal(18.3, ideal.TotalSeconds, precision: 9);
    }

    [Fact]
    public void For_RequestBudgetBinds_IgnoresTheLooserTokenBudget()
    {
        var ideal = IdealTime.For(600, 1_000, [new BudgetStep(TimeSpan.Zero, 1_800, 1_200_000)], TimeSpan.Zero);

        Assert.Equal(20, ideal.TotalSeconds, precision: 9);
    }

    [Fact]
    public void For_BudgetHalvedForTheMiddleThird_IsSevenSixthsOfTheConstantTime()
    {
        // T0 = 600 ÷ 30/s = 20 s. 0–6.67 s pays 200, 6.67–13.33 s pays 100, the last 300 take 10 s more.
        var third = TimeSpan.FromSeconds(20.0 / 3);
        BudgetStep[] schedule =
        [
            new(TimeSpan.Zero, 1_800, null),
            new(third, 900, null),
            new(2 * third, 1_800, null),
        ];

        var ideal = IdealTime.For(600, 0, schedule, TimeSpan.Zero);

        Assert.Equal(20.0 * 7 / 6, ideal.TotalSeconds, precision: 6);
    }

    [Fact]
    public void SecondsToPay_AmountPaidBeforeTheChange_IgnoresLaterSteps()
    {
        BudgetStep[] schedule = [new(TimeSpan.Zero, 600, null), new(TimeSpan.FromSeconds(10), 60, null)];

        Assert.Equal(5, IdealTime.SecondsToPay(50, schedule, step => step.RequestsPerMinute), precision: 9);
        Assert.Equal(20, IdealTime.SecondsToPay(110, schedule, step => step.RequestsPerMinute), precision: 9);
    }

    [Fact]
    public void SecondsToPay_NoBudget_IsZero()
    {
        BudgetStep[] schedule = [new(TimeSpan.Zero, 600, null)];

        Assert.Equal(0, IdealTime.SecondsToPay(1_000_000, schedule, step => step.TokensPerMinute));
    }

    [Fact]
    public void SecondsToPay_BudgetRemovedLater_PaysTheRestWhenItIsRemoved()
    {
        BudgetStep[] schedule = [new(TimeSpan.Zero, 60, null), new(TimeSpan.FromSeconds(3), null, null)];

        Assert.Equal(3, IdealTime.SecondsToPay(100, schedule, step => step.RequestsPerMinute), precision: 9);
    }

    [Theory]
    [InlineData(20.3, 20.3, 1.0)]
    [InlineData(20.3, 40.6, 0.5)]
    [InlineData(20.0, 0.0, 0.0)]
    public void Efficiency_IsIdealOverWall(double idealSeconds, double wallSeconds, double expected)
    {
        Assert.Equal(expected, IdealTime.Efficiency(TimeSpan.FromSeconds(idealSeconds), TimeSpan.FromSeconds(wallSeconds)), precision: 9);
    }

    [Fact]
    public void For_NginxRateHalvedForTheMiddleThird_ChargesAllButTheFreeRequests()
    {
        // nginx-rate-change: 480 requests, the first 6 (burst 5 + 1, nodelay) free; 40/s to 4 s pays 160, 20/s to
        // 8 s pays 80, and the last 234 take 5.85 s more at 40/s: 13.85 s, + 0.2 s of latency.
        BudgetStep[] schedule =
        [
            new(TimeSpan.Zero, 2_400, null),
            new(TimeSpan.FromSeconds(4), 1_200, null),
            new(TimeSpan.FromSeconds(8), 2_400, null),
        ];

        var ideal = IdealTime.For(480 - 6, 0, schedule, TimeSpan.FromMilliseconds(200));

        Assert.Equal(14.05, ideal.TotalSeconds, precision: 9);
    }

    [Theory]
    [InlineData(nameof(ScenarioKind.MockWithHeaders), true, 0.97, 0.01)]
    [InlineData(nameof(ScenarioKind.MockWithHeaders), false, 0.97, 0.01)]
    [InlineData(nameof(ScenarioKind.Unstated), true, 0.97, null)]
    [InlineData(nameof(ScenarioKind.Unstated), false, 0.90, 0.05)]
    [InlineData(nameof(ScenarioKind.FaultMix), true, 0.90, null)]
    [InlineData(nameof(ScenarioKind.FaultMix), false, 0.90, null)]
    [InlineData(nameof(ScenarioKind.LongAnswers), true, 0.95, 0.01)]
    [InlineData(nameof(ScenarioKind.LongAnswers), false, 0.95, 0.01)]
    public void Targets_FollowIssue12(string kind, bool knowsBudget, double minEfficiency, double? maxThrottled)
    {
        // By name: the enum is internal to the bench, and a public test method cannot take it.
        var targets = Targets.For(Enum.Parse<ScenarioKind>(kind), knowsBudget);

        Assert.Equal(minEfficiency, targets.MinEfficiency);
        Assert.Equal(maxThrottled, targets.MaxThrottledShare);
    }
}
