using System.Net;
using Sluice.Cli.Common;
using Sluice.Proxy;
using Sluice.Redis.Connection;
using Sluice.Redis.Gate;
using Sluice.Spend;

namespace Sluice.Cli.Proxy;

/// <summary>Everything one <c>sluice proxy</c> needs, resolved from options, environment and config file, and checked.</summary>
internal sealed record ProxySettings
{
    public IPEndPoint Listen { get; init; } = ProxyDefaults.Listen;

    /// <summary>True when the operator asked to listen beyond loopback (<c>--allow-remote</c>).</summary>
    public bool AllowRemote { get; init; }

    public required IReadOnlyList<ProxyUpstream> Upstreams { get; init; }

    /// <summary>The longest a request may wait for its turn before it gets a 429 with an honest Retry-After.</summary>
    public TimeSpan MaxWait { get; init; } = ProxyDefaults.MaxWait;

    /// <summary>Requests that may wait in one partition; more get a 429 at once.</summary>
    public int MaxQueue { get; init; } = ProxyDefaults.MaxQueue;

    /// <summary>Requests held at once over every upstream and partition; more get a 503 at once.</summary>
    public int MaxQueueTotal { get; init; } = ProxyDefaults.MaxQueueTotal;

    /// <summary>Partitions each upstream holds at most; a request needing another gets a 503 until one is idle.</summary>
    public int MaxPartitions { get; init; } = ProxyDefaults.MaxPartitions;

    /// <summary>How long an idle partition is kept before it is removed with what it learned.</summary>
    public TimeSpan PartitionIdle { get; init; } = ProxyDefaults.PartitionIdle;

    /// <summary>Unlisted models with a partition of their own per upstream; further ones share one group.</summary>
    public int MaxModels { get; init; } = ProxyDefaults.MaxModels;

    /// <summary>The largest request body accepted, in bytes; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = ProxyDefaults.MaxRequestBodyMegabytes * 1024L * 1024L;

    /// <summary>Request bodies held in memory at once over every client, in bytes; a request over it gets 503.</summary>
    public long MaxBufferedRequestBytes { get; init; } = ProxyDefaults.MaxBufferedMegabytes * 1024L * 1024L;

    /// <summary>Tries per request for transient failures (5xx, resets, timeouts); 429s do not count.</summary>
    public int MaxAttempts { get; init; } = CommandDefaults.MaxAttempts;

    /// <summary>How long one try may take.</summary>
    public TimeSpan Timeout { get; init; } = CommandDefaults.Timeout;

    /// <summary>How long a stop waits for requests in flight (streams included) to finish.</summary>
    public TimeSpan DrainTimeout { get; init; } = ProxyDefaults.DrainTimeout;

    /// <summary>A key clients must present to use the proxy (Bearer, x-api-key or api-key); null when none is required.</summary>
    public string? ProxyKey { get; init; }

    /// <summary>Where Redis is when budgets are shared with other replicas; null when they are held here. May hold a password: never shown (see <see cref="RedisConnection.Describe"/>).</summary>
    public string? Redis { get; init; }

    /// <summary>The prices file overriding the table shipped with Sluice (<c>--prices</c>); null for the shipped table alone.</summary>
    public string? PricesFile { get; init; }

    /// <summary>The shipped prices overridden by <see cref="PricesFile"/>; null for the shipped table alone.</summary>
    public PriceTable? Prices { get; init; }

    /// <summary>The response cache's file (<c>--cache</c>); null when the proxy has no cache.</summary>
    public string? CacheFile { get; init; }

    /// <summary>The cache's size cap in bytes (<c>--cache-max-size</c>).</summary>
    public long CacheMaxBytes { get; init; } = ProxyDefaults.CacheMaxBytes;

    /// <summary>How long a cached answer is kept (<c>--cache-max-age</c>).</summary>
    public TimeSpan CacheMaxAge { get; init; } = ProxyDefaults.CacheMaxAge;

    /// <summary>The tenants (config file's <c>tenants</c>), their keys hashed; empty when every request is the default tenant.</summary>
    public IReadOnlyList<ProxyTenant> Tenants { get; init; } = [];

    /// <summary>The header naming a request's tenant (<c>tenant_header</c>); null when none.</summary>
    public string? TenantHeader { get; init; }

    /// <summary>Puts the proxy's part of these settings into the library's options; listening and draining stay the host's.</summary>
    public void ApplyTo(SluiceProxyOptions options)
    {
        foreach (var upstream in Upstreams)
        {
            options.Upstreams.Add(upstream);
        }

        options.MaxWait = MaxWait;
        options.MaxQueue = MaxQueue;
        options.MaxQueueTotal = MaxQueueTotal;
        options.MaxPartitions = MaxPartitions;
        options.PartitionIdleTimeout = PartitionIdle;
        options.MaxModels = MaxModels;
        options.MaxRequestBodyBytes = MaxRequestBodyBytes;
        options.MaxBufferedRequestBytes = MaxBufferedRequestBytes;
        options.MaxAttempts = MaxAttempts;
        options.Timeout = Timeout;
        options.ProxyKey = ProxyKey;
        options.Prices = Prices;
        foreach (var tenant in Tenants)
        {
            options.Tenants.Add(tenant);
        }

        options.TenantHeader = TenantHeader;
        if (Redis is not null)
        {
            options.GateFactory = RedisGate.Factory(new RedisGateOptions { Configuration = Redis });
        }
    }

    // The keys must not reach a log through a record's generated ToString.
    public override string ToString() => $"sluice proxy on {Listen} -> {string.Join(", ", Upstreams)}";
}

/// <summary>Defaults of <c>sluice proxy</c>, shared by help and behaviour.</summary>
internal static class ProxyDefaults
{
    public static readonly IPEndPoint Listen = new(IPAddress.Loopback, 8787);

    /// <summary>Generous, yet shorter than the SDKs' own 10-minute timeouts, so clients get an answer rather than a timeout.</summary>
    public static readonly TimeSpan MaxWait = SluiceProxyOptions.DefaultMaxWait;

    public const int MaxQueue = 10_000;

    /// <summary>Two full partition queues: the proxy's whole backlog, however many partitions share it.</summary>
    public const int MaxQueueTotal = 20_000;

    public const int MaxPartitions = 1_000;

    public static readonly TimeSpan PartitionIdle = TimeSpan.FromMinutes(10);

    public const int MaxModels = 100;

    /// <summary>Room for audio uploads (OpenAI takes files up to 25 MB) and long prompts.</summary>
    public const int MaxRequestBodyMegabytes = 32;

    /// <summary>The largest <c>--max-body-mb</c>: a body is held in one array, and for a moment twice.</summary>
    public const int MaxRequestBodyMegabytesLimit = 1024;

    /// <summary>Eight bodies of the default largest size at once, or thousands of ordinary chat requests.</summary>
    public const int MaxBufferedMegabytes = 256;

    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The response cache's default size cap: 1 GiB, the library's default.</summary>
    public const long CacheMaxBytes = 1024L * 1024 * 1024;

    /// <summary>How long a cached answer is kept by default: 30 days, the library's default.</summary>
    public static readonly TimeSpan CacheMaxAge = TimeSpan.FromDays(30);


    /// <summary>The name of the upstream given by <c>--upstream</c>.</summary>
    public const string UpstreamName = "default";
}
