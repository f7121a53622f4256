using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;

namespace Sluice.Proxy;

/// <summary>
/// One upstream's <see cref="SluiceEngine"/>: the same pipeline <see cref="SluiceHandler"/> and <c>sluice run</c> use,
/// with the upstream's budgets per model group. Its partitions are named <c>upstream|key:fingerprint|model group</c>;
/// at most <see cref="SluiceProxyOptions.MaxPartitions"/> of them are held, and idle ones are removed.
/// </summary>
internal sealed class ProxyUpstreamRuntime : IDisposable
{
    private readonly ModelGroups _models;
    private long _cacheHits;
    private long _cacheMisses;
    private long _cacheBypasses;

    public ProxyUpstreamRuntime(
        ProxyUpstream upstream,
        SluiceProxyOptions settings,
        TimeProvider time,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        Random random)
    {
        Upstream = upstream;
        var options = new SluiceHandlerOptions
        {
            Provider = upstream.Provider,
            DefaultLimits = ProxyLimits.For(upstream, settings.MaxQueue),
            // Each partition's limits say whether its concurrency is learned (ProxyLimits): a number given is fixed.
            AdaptiveConcurrency = false,
            Retry = new DispatcherOptions { MaxAttempts = settings.MaxAttempts, AttemptTimeout = settings.Timeout },
            MaxPartitions = settings.MaxPartitions,
            PartitionIdleTimeout = settings.PartitionIdleTimeout,
            GateFactory = settings.GateFactory,
            Prices = settings.Prices,
        };
        foreach (var group in upstream.Models)
        {
            options.Partitions[group.Pattern] = ProxyLimits.For(upstream, group, settings.MaxQueue);
        }

        Engine = new SluiceEngine(options, transport: null, time, loggerFactory, meterFactory, random);
        _models = new ModelGroups(settings.MaxModels, settings.PartitionIdleTimeout, time);
        StopsPartition = upstream.ApiKey is null ? ClientsKeys : ProxysKey;
        Spend = new ProxySpend(upstream, settings.MaxPartitions, time);
    }

    /// <summary>The upstream's spend caps (its own, and one per client fingerprint) and what it spent.</summary>
    public ProxySpend Spend { get; }

    /// <summary>
    /// Which answers classed as exhausted quota or a rejected credential stop a partition of this upstream for every
    /// client (docs/security.md): those whose cause is the partition's, never one client's. Exhausted quota is the
    /// account's. A 401 is the partition's when the proxy holds the key (clients cannot change how it authenticates:
    /// their credential headers are dropped), and the client's own when its key passes through. A 403 (permission for a
    /// model, a path, an organisation) is about what one request asked for, so it never stops a partition.
    /// </summary>
    public Func<HttpResponseMessage, bool> StopsPartition { get; }

    public ProxyUpstream Upstream { get; }

    public SluiceEngine Engine { get; }

    /// <summary>The upstream's gate: its partitions and their snapshots.</summary>
    public SluiceGate Gate => Engine.Gate;

    /// <summary>The limits a partition of this upstream runs under.</summary>
    public PartitionLimits LimitsOf(string partitionKey) => Engine.LimitsFor(partitionKey);

    /// <summary>
    /// The model group a request's partition is named after: a listed group's pattern, <c>default</c> without a model,
    /// else the model itself while fewer than <see cref="SluiceProxyOptions.MaxModels"/> unlisted ones are in use, else
    /// <see cref="ModelGroups.Unlisted"/>.
    /// </summary>
    /// <param name="model">The body's model, already checked by <see cref="ProxyLimits.IsValidModel"/>.</param>
    public string ModelGroup(string? model)
    {
        string group = ProxyRouter.ModelGroup(Upstream, model);
        return model is null || !string.Equals(group, model, StringComparison.Ordinal) || IsListed(model) ? group : _models.GroupOf(model);
    }

    /// <summary>Requests of this upstream answered from the cache, sent and stored, and kept from it, since the start.</summary>
    public (long Hits, long Misses, long Bypasses) CacheCounts => (Interlocked.Read(ref _cacheHits), Interlocked.Read(ref _cacheMisses), Interlocked.Read(ref _cacheBypasses));

    /// <summary>Counts one request that met the cache: <c>hit</c>, <c>miss</c> or <c>bypass</c>.</summary>
    public void CountCache(string result)
    {
        switch (result)
        {
            case "hit":
                Interlocked.Increment(ref _cacheHits);
                break;
            case "miss":
                Interlocked.Increment(ref _cacheMisses);
                break;
            default:
                Interlocked.Increment(ref _cacheBypasses);
                break;
        }
    }

    public void Dispose() => Engine.Dispose();

    private bool IsListed(string model) => Upstream.Models.Any(m => string.Equals(m.Pattern, model, StringComparison.OrdinalIgnoreCase));

    private static bool ClientsKeys(HttpResponseMessage answer) => answer.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden);

    private static bool ProxysKey(HttpResponseMessage answer) => answer.StatusCode is not HttpStatusCode.Forbidden;
}
