using System.Text.Json.Serialization;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// <c>GET /sluice/status</c>: every upstream (name, URL without query, provider, whose key) and every partition's
/// snapshot, with each partition's tenants (the gate's fair share), and every tenant's counts. Keys never appear: a
/// partition names its credential by fingerprint only, a tenant by its name.
/// </summary>
internal sealed record ProxyStatus(
    [property: JsonPropertyName("draining")] bool Draining,
    [property: JsonPropertyName("max_wait_seconds")] double MaxWaitSeconds,
    [property: JsonPropertyName("upstreams")] IReadOnlyList<UpstreamStatus> Upstreams,
    [property: JsonPropertyName("cache")] CacheStatus? Cache,
    [property: JsonPropertyName("tenants")] IReadOnlyList<TenantStatus> Tenants)
{
    public static ProxyStatus Of(SluiceProxyOptions settings, IEnumerable<ProxyUpstreamRuntime> runtimes, ProxyTenants tenants, bool draining) => new(
        draining,
        settings.MaxWait.TotalSeconds,
        [.. runtimes.Select(runtime => new UpstreamStatus(
            runtime.Upstream.Name,
            runtime.Upstream.Url.GetLeftPart(UriPartial.Path),
            runtime.Upstream.Provider.ToString(),
            runtime.Upstream.ApiKey is null ? "client" : "proxy",
            ProxyLimits.IsAuto(runtime.Upstream.Concurrency) ? "auto" : runtime.Upstream.Concurrency!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [.. runtime.Gate.Partitions.Select(partition => PartitionStatus.Of(partition.GetSnapshot()))],
            UpstreamCacheStatus.Of(runtime),
            UpstreamSpendStatus.Of(runtime.Spend, runtime.Upstream)))],
        settings.Cache is { } cache ? CacheStatus.Of(cache.Statistics) : null,
        [.. tenants.All.Select(TenantStatus.Of)]);
}

/// <summary>One upstream in the status.</summary>
internal sealed record UpstreamStatus(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("provider")] string Provider,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("concurrency")] string Concurrency,
    [property: JsonPropertyName("partitions")] IReadOnlyList<PartitionStatus> Partitions,
    [property: JsonPropertyName("cache")] UpstreamCacheStatus Cache,
    [property: JsonPropertyName("spend")] UpstreamSpendStatus Spend);

/// <summary>
/// One upstream's spend in USD: its daily cap (with what is spent and reserved today, and when the day ends), the cap
/// per client and how many clients are tracked, what every request cost since the start, and how many were refused.
/// </summary>
internal sealed record UpstreamSpendStatus(
    [property: JsonPropertyName("max_per_day")] decimal? MaxPerDay,
    [property: JsonPropertyName("spent_today")] decimal? SpentToday,
    [property: JsonPropertyName("reserved")] decimal Reserved,
    [property: JsonPropertyName("resets_at")] DateTimeOffset? ResetsAt,
    [property: JsonPropertyName("max_per_client_per_day")] decimal? MaxPerClientPerDay,
    [property: JsonPropertyName("clients_tracked")] int ClientsTracked,
    [property: JsonPropertyName("spent_since_start")] decimal SpentSinceStart,
    [property: JsonPropertyName("refused")] long Refused)
{
    public static UpstreamSpendStatus Of(ProxySpend spend, ProxyUpstream upstream)
    {
        var cap = spend.UpstreamCap?.GetSnapshot();
        return new(
            upstream.MaxSpendPerDay,
            cap?.Settled,
            spend.Reserved,
            cap?.ResetsAt,
            upstream.MaxSpendPerClientPerDay,
            spend.ClientsTracked,
            spend.Spent,
            spend.Refused);
    }
}

/// <summary>One upstream's use of the response cache: whether it caches by itself, and what its requests met.</summary>
internal sealed record UpstreamCacheStatus(
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("any_temperature")] bool AnyTemperature,
    [property: JsonPropertyName("hits")] long Hits,
    [property: JsonPropertyName("misses")] long Misses,
    [property: JsonPropertyName("bypasses")] long Bypasses)
{
    public static UpstreamCacheStatus Of(ProxyUpstreamRuntime runtime)
    {
        var (hits, misses, bypasses) = runtime.CacheCounts;
        return new(runtime.Upstream.Cache, runtime.Upstream.CacheAnyTemperature, hits, misses, bypasses);
    }
}

/// <summary>The response cache as a whole (every upstream, and other processes' entries in a shared file as far as known).</summary>
internal sealed record CacheStatus(
    [property: JsonPropertyName("hits")] long Hits,
    [property: JsonPropertyName("misses")] long Misses,
    [property: JsonPropertyName("stores")] long Stores,
    [property: JsonPropertyName("entries")] long Entries,
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("disabled")] string? Disabled)
{
    public static CacheStatus Of(Sluice.Caching.ResponseCacheStatistics statistics) =>
        new(statistics.Hits, statistics.Misses, statistics.Stores, statistics.Entries, statistics.Bytes, statistics.DisabledReason);
}

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
    [property: JsonPropertyName("stopped")] string? StopReason,
    [property: JsonPropertyName("tenants")] IReadOnlyList<PartitionTenantStatus> Tenants)
{
    public static PartitionStatus Of(PartitionSnapshot snapshot) => new(
        snapshot.Key,
        snapshot.InFlight,
        snapshot.Queued,
        snapshot.ConcurrencyLimit,
        snapshot.AdaptiveConcurrency,
        snapshot.RequestsPerMinute is { } rpm ? Math.Round(rpm, 1) : null,
        SourceName(snapshot.RequestBudgetSource),
        snapshot.TokensPerMinute is { } tpm ? Math.Round(tpm, 1) : null,
        SourceName(snapshot.TokenBudgetSource),
        snapshot.RequestsAvailable is { } requests ? Math.Round(requests, 2) : null,
        snapshot.TokensAvailable is { } tokens ? Math.Round(tokens, 2) : null,
        snapshot.PausedUntil,
        snapshot.StopReason,
        [.. snapshot.Tenants.Select(PartitionTenantStatus.Of)]);

    private static string SourceName(BudgetSource source) => source switch
    {
        BudgetSource.Configured => "configured",
        BudgetSource.Headers => "headers",
        BudgetSource.Throttling => "learned_from_429s",
        _ => "none",
    };
}
