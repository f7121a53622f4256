using System.Net;
using Sluice.Cli.Common;
using Sluice.Providers;


namespace Sluice.Cli.Proxy;

/// <summary>The options of one <c>sluice proxy</c> as given, before configuration, defaults and checks.</summary>
internal sealed record ProxyArguments
{
    public string? Upstream { get; init; }

    public IPEndPoint? Listen { get; init; }

    public bool AllowRemote { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    /// <summary><c>--input-tpm</c>, <c>--output-tpm</c>, <c>--rpd</c>, <c>--tpd</c>, for <c>--upstream</c>.</summary>
    public ExtraBudgets Budgets { get; init; } = ExtraBudgets.None;

    /// <summary>Null when not given or <c>auto</c>.</summary>
    public int? Concurrency { get; init; }

    public string? ApiKeyEnv { get; init; }

    public ProviderKind? Provider { get; init; }

    public string? Config { get; init; }

    public TimeSpan? MaxWait { get; init; }

    public int? MaxQueue { get; init; }

    public int? MaxQueueTotal { get; init; }

    public int? MaxPartitions { get; init; }

    public TimeSpan? PartitionIdle { get; init; }

    public int? MaxModels { get; init; }

    public int? MaxBodyMegabytes { get; init; }

    public int? MaxBufferedMegabytes { get; init; }

    public int? MaxAttempts { get; init; }

    public TimeSpan? Timeout { get; init; }

    public TimeSpan? DrainTimeout { get; init; }

    public string? ProxyKeyEnv { get; init; }

    /// <summary>Where Redis is, when budgets are shared with other replicas (<c>--redis</c>); may hold a password.</summary>
    public string? Redis { get; init; }

    /// <summary><c>--max-spend-per-day</c>, <c>--max-spend-per-client-per-day</c>, <c>--cache-all</c>, <c>--cache-any-temperature</c>, for <c>--upstream</c>.</summary>
    public SpendAndCache Spend { get; init; } = SpendAndCache.None;

    /// <summary><c>--prices FILE</c>.</summary>
    public string? Prices { get; init; }

    /// <summary><c>--cache FILE</c>.</summary>
    public string? CacheFile { get; init; }

    /// <summary><c>--cache-max-size</c>, in bytes.</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary><c>--cache-max-age</c>.</summary>
    public TimeSpan? CacheMaxAge { get; init; }
}
