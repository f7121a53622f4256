namespace Sluice.Efficiency.Measure;

/// <summary>
/// Issue 8's targets for a Sluice row: efficiency ≥ 0.98 with the budget known or learnable from headers, ≥ 0.85
/// with neither; 429s ≤ 1% of attempts when the provider sends rate-limit headers; nothing lost, ever.
/// </summary>
/// <param name="MinEfficiency">The least efficiency that meets the target.</param>
/// <param name="MaxThrottledShare">The largest share of attempts answered 429, or null when no target applies.</param>
internal sealed record Targets(double MinEfficiency, double? MaxThrottledShare)
{
    /// <summary>The targets for a Sluice row that does or does not know the budget, with headers on or off.</summary>
    public static Targets For(bool knowsBudget, bool rateLimitHeaders) => new(
        MinEfficiency: knowsBudget || rateLimitHeaders ? 0.98 : 0.85,
        MaxThrottledShare: rateLimitHeaders ? 0.01 : null);
}
