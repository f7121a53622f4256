namespace Sluice.Proxy;

/// <summary>
/// What a Sluice proxy forwards to and how patiently: its upstreams (each with its budgets), how long and how many
/// requests may wait, how large a body may be, how often a failed try is repeated, and the key clients must present.
/// Bound from configuration or set in code through <c>AddSluiceProxy</c>; validated when the proxy starts.
/// </summary>
public sealed class SluiceProxyOptions
{
    /// <summary>The longest a request waits for its turn before <see cref="MaxWait"/> gives it up: generous, yet shorter than the SDKs' own 10-minute timeouts, so clients get an answer rather than a timeout.</summary>
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromMinutes(5);

    /// <summary>The upstreams, in order; at least one. Routing: a prefix, then a model, then a path, then the default.</summary>
    public IList<ProxyUpstream> Upstreams { get; init; } = [];

    /// <summary>
    /// Makes each upstream's gate: budgets shared with other proxy replicas (<c>Sluice.Redis</c>'s
    /// <c>RedisGate.Factory</c>) instead of held in this process. Each upstream's engine owns its gate.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: an in-process gate per upstream.</value>
    public Sluice.Gate.SluiceGateFactory? GateFactory { get; set; }

    /// <summary>The longest a request may wait for its turn before it gets a 429 with an honest Retry-After.</summary>
    public TimeSpan MaxWait { get; set; } = DefaultMaxWait;

    /// <summary>Requests that may wait in one partition; more get a 429 at once.</summary>
    public int MaxQueue { get; set; } = 10_000;

    /// <summary>
    /// Requests the proxy holds at once over every upstream and partition — waiting for their turn, or with the
    /// upstream — so that the per-partition <see cref="MaxQueue"/> times many partitions cannot add up to more; more
    /// get a 503 (<c>proxy_full</c>) with a Retry-After at once.
    /// </summary>
    /// <value>Defaults to 20,000.</value>
    public int MaxQueueTotal { get; set; } = 20_000;

    /// <summary>
    /// Partitions each upstream holds at most (one per client key and model group). A request that would need another
    /// gets a 503 (<c>too_many_partitions</c>) until an idle one has been removed (<see cref="PartitionIdleTimeout"/>).
    /// </summary>
    /// <value>Defaults to 1,000.</value>
    public int MaxPartitions { get; set; } = 1_000;

    /// <summary>
    /// How long a partition with nothing in flight or waiting is kept; then it is removed with everything kept for it
    /// (learned budgets, a stop and its answer), which are learned again if it comes back.
    /// </summary>
    /// <value>Defaults to 10 minutes.</value>
    public TimeSpan PartitionIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Models not listed in an upstream's <see cref="ProxyUpstream.Models"/> that get a partition of their own, per
    /// upstream; once that many are in use, further unlisted models share one group, <c>(unlisted)</c>, until one has
    /// been idle for <see cref="PartitionIdleTimeout"/>. Zero puts every unlisted model in that group.
    /// </summary>
    /// <value>Defaults to 100.</value>
    public int MaxModels { get; set; } = 100;

    /// <summary>The largest request body accepted, in bytes (32 MiB: room for audio uploads and long prompts); larger ones get 413. At most <see cref="Array.MaxLength"/>.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Request bodies held in memory at once, over every client, in bytes (256 MiB). A body is buffered as it arrives so
    /// a retry can send it again, and held until its answer is relayed; a request whose body would take the proxy over
    /// this bound gets 503 (<c>buffers_full</c>) with a Retry-After. While a body's pieces are joined into one array it
    /// holds both for a moment — never more than twice <see cref="MaxRequestBodyBytes"/> — so this is at least that.
    /// </summary>
    public long MaxBufferedRequestBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Tries per request for transient failures (5xx, resets, timeouts); 429s do not count.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>How long one try may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How long a partition stopped by exhausted quota, a rejected key or a very long Retry-After stays stopped before
    /// a request tries the upstream again: a proxy runs for days, and quota gets topped up and keys fixed.
    /// </summary>
    public TimeSpan StoppedRetry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A key clients must present to use the proxy (Bearer, x-api-key or api-key); null when none is required. Never logged.</summary>
    public string? ProxyKey { get; set; }

    /// <summary>
    /// The tenants sharing the proxy (docs/proxy.md, "Tenants"): each has a name, a weight in the fair share of every
    /// partition's budget, a priority, and optionally a key (by its hash), its own limits and a daily spend cap. When
    /// any tenant has a key, a client must present a tenant's key (or <see cref="ProxyKey"/>), and every upstream must
    /// hold its own key (<see cref="ProxyUpstream.ApiKey"/>): a tenant's key is never forwarded.
    /// </summary>
    /// <value>Defaults to none: every request is the partition's default tenant.</value>
    public IList<ProxyTenant> Tenants { get; init; } = [];

    /// <summary>
    /// A request header naming the request's tenant (such as <c>x-sluice-tenant</c>): a configured tenant by name, else an
    /// ad-hoc tenant of weight 1, at most <see cref="MaxHeaderTenants"/> of them; a request identified by a tenant key
    /// is that tenant whatever the header says. The header is never forwarded.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: tenants are known by key only.</value>
    public string? TenantHeader { get; set; }

    /// <summary>
    /// Ad-hoc tenants named by <see cref="TenantHeader"/> the proxy tracks at once; ones with no request in progress are
    /// forgotten first, and when all are busy a request naming a new one gets a 429.
    /// </summary>
    public const int MaxHeaderTenants = 100;

    /// <summary>
    /// The prices requests are costed at, for spend caps, <c>/metrics</c> and <c>/sluice/status</c>: the table shipped
    /// with Sluice, or that table overridden by a user's file (<c>PriceTable.Default.OverriddenBy(PriceTable.Load(path))</c>).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="Sluice.Spend.PriceTable.Default"/>.</value>
    public Sluice.Spend.PriceTable? Prices { get; set; }

    /// <summary>
    /// The response cache used by upstreams with <see cref="ProxyUpstream.Cache"/> and by requests sending
    /// <c>x-sluice-cache: use</c> (<c>Sluice.Cache</c>'s <c>SqliteResponseCache</c>, or any other). The proxy uses it and
    /// never disposes it: its owner does, after the proxy.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no cache; an upstream with <see cref="ProxyUpstream.Cache"/> is then an error.</value>
    public Sluice.Caching.ResponseCache? Cache { get; set; }

    /// <summary>The upstreams, never a key.</summary>
    /// <returns>A description for logs.</returns>
    public override string ToString() => $"sluice proxy -> {string.Join(", ", Upstreams)}";
}
