using System.Text.Json.Serialization;

namespace Sluice.Proxy.Dashboard;

/// <summary>
/// The status's <c>history</c>: one point per second in which a try ended, over the last five minutes (every upstream
/// together), oldest first; the current second so far is included. Seconds without a point had no try.
/// </summary>
internal sealed record HistoryStatus(
    [property: JsonPropertyName("interval_seconds")] int IntervalSeconds,
    [property: JsonPropertyName("points")] IReadOnlyList<HistoryPoint> Points);

/// <summary>
/// One second of <see cref="HistoryStatus"/>: tries admitted (each counted as it ends), tries whose answer was final,
/// tries the upstream throttled (429, or 529 overloaded), and tries that were retries.
/// </summary>
internal sealed record HistoryPoint(
    [property: JsonPropertyName("at")] long At,
    [property: JsonPropertyName("admitted")] long Admitted,
    [property: JsonPropertyName("answered")] long Answered,
    [property: JsonPropertyName("throttled")] long Throttled,
    [property: JsonPropertyName("retries")] long Retries);
