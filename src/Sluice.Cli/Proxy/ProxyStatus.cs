using System.Text.Json.Serialization;
using Sluice.Cli.Common;
using Sluice.Gate;

namespace Sluice.Cli.Proxy;

/// <summary>
/// <c>GET /sluice/status</c>: every upstream (name, URL without query, provider, whose key) and every partition's
/// snapshot. Keys never appear: a partition names its credential by fingerprint only.
/// </summary>
internal sealed record ProxyStatus(
    [property: JsonPropertyName("draining")] bool Draining,
    [property: JsonPropertyName("max_wait_seconds")] double MaxWaitSeconds,
    [property: JsonPropertyName("upstreams")] IReadOnlyList<UpstreamStatus> Upstreams)
{
    public static ProxyStatus Of(ProxySettings settings, IEnumerable<ProxyUpstreamRuntime> runtimes, bool draining) => new(
        draining,
        settings.MaxWait.TotalSeconds,
        [.. runtimes.Select(runtime => new UpstreamStatus(
            runtime.Upstream.Name,
            runtime.Upstream.Url.GetLeftPart(UriPartial.Path),
            runtime.Upstream.Provider.ToString(),
            runtime.Upstream.ApiKey is null ? "client" : "proxy",
            ProxyLimits.IsAuto(runtime.Upstream.Concurrency) ? "auto" : runtime.Upstream.Concurrency!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [.. runtime.Sluice.Gate.Partitions.Select(partition => PartitionStatus.Of(partition.GetSnapshot()))]))]);
}

/// <summary>One upstream in the status.</summary>
internal sealed record UpstreamStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("concurrency")] string Concurrency,
    [property: JsonPropertyName("partitions")] IReadOnlyList<PartitionStatus> Partitions);

/// <summary>One partition in the status: its snapshot, with the budgets in force and where they come from.</summary>
internal sealed record PartitionStatus(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("in_flight")] int InFlight,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("concurrency_limit")] int ConcurrencyLimit,
    [property: JsonPropertyName("adaptive_concurrency")] bool AdaptiveConcurrency,
    [property: JsonPropertyName("rpm")] double? RequestsPerMinute,
    [property: JsonPropertyName("rpm_source")] string RequestBudgetSource,
    [property: JsonPropertyName("tpm")] double? TokensPerMinute,
    [property: JsonPropertyName("tpm_source")] string TokenBudgetSource,
    [property: JsonPropertyName("requests_available")] double? RequestsAvailable,
    [property: JsonPropertyName("tokens_available")] double? TokensAvailable,
    [property: JsonPropertyName("paused_until")] DateTimeOffset? PausedUntil,
    [property: JsonPropertyName("stopped")] string? StopReason)
{
    public static PartitionStatus Of(PartitionSnapshot snapshot) => new(
        snapshot.Key,
        snapshot.InFlight,
        snapshot.Queued,
        snapshot.ConcurrencyLimit,
        snapshot.AdaptiveConcurrency,
        snapshot.RequestsPerMinute is { } rpm ? Math.Round(rpm, 1) : null,
        BudgetSourceNames.Json(snapshot.RequestBudgetSource),
        snapshot.TokensPerMinute is { } tpm ? Math.Round(tpm, 1) : null,
        BudgetSourceNames.Json(snapshot.TokenBudgetSource),
        snapshot.RequestsAvailable is { } requests ? Math.Round(requests, 2) : null,
        snapshot.TokensAvailable is { } tokens ? Math.Round(tokens, 2) : null,
        snapshot.PausedUntil,
        snapshot.StopReason);
}
