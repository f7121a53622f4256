using Sluice.Efficiency.Scenarios;

namespace Sluice.Efficiency.Measure;

/// <summary>
/// Issue 12's targets for a Sluice row. Real limiters (nginx, and the mock with its headers off): told the rate
/// ≥ 0.97, told nothing ≥ 0.90 with 429s ≤ 5% of attempts. The mock with headers: ≥ 0.97 told or not, 429s ≤ 1%.
/// The fault mix: ≥ 0.90. Answers of seconds: ≥ 0.95, 429s ≤ 1%. Everywhere: nothing lost, and never below the best
/// peer of the same scenario (checked by <c>RowResult.MissesPeer</c>).
/// </summary>
/// <param name="MinEfficiency">The least efficiency that meets the target.</param>
/// <param name="MaxThrottledShare">The largest share of attempts answered 429, or null when no target applies.</param>
internal sealed record Targets(double MinEfficiency, double? MaxThrottledShare)
{
    /// <summary>The targets for a Sluice row in a scenario of <paramref name="kind"/>, told the budget or not.</summary>
    public static Targets For(ScenarioKind kind, bool knowsBudget) => kind switch
    {
        ScenarioKind.MockWithHeaders => new(0.97, 0.01),
        ScenarioKind.Unstated => knowsBudget ? new(0.97, null) : new(0.90, 0.05),
        ScenarioKind.FaultMix => new(0.90, null),
        ScenarioKind.LongAnswers => new(0.95, 0.01),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
