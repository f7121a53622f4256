using System.Diagnostics.Metrics;
using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// The proxy's own instruments, on the meter <c>Sluice.Proxy</c>, beside the library's <c>Sluice</c> meter (queue
/// length, in flight, admitted, throttled, retries, and the limits in force: concurrency, requests and tokens per
/// minute): answers by upstream and status, requests turned away by reason, and what else each partition's snapshot
/// tells — budget left now, paused, stopped. Tags name upstreams and partitions (whose key part is a fingerprint),
/// never a credential.
/// </summary>
internal sealed class ProxyMetrics
{
    public const string MeterName = "Sluice.Proxy";

    private readonly Func<IEnumerable<(ProxyUpstreamRuntime Runtime, GatePartition Partition)>> _partitions;

    public ProxyMetrics(IMeterFactory meterFactory, IReadOnlyList<ProxyUpstreamRuntime> runtimes, Sluice.Caching.ResponseCache? cache = null)
    {
        _partitions = () => runtimes.SelectMany(r => r.Gate.Partitions.Select(p => (r, p)));
        var meter = meterFactory.Create(MeterName);
        Spend = meter.CreateCounter<double>("sluice.proxy.spend.usd", "{USD}", "What answered requests cost at list prices, in US dollars, by upstream (cache hits cost nothing).");
        SpendCapRefusals = meter.CreateCounter<long>("sluice.proxy.spend.cap_refusals", "{request}", "Requests refused with 402 spend_cap_reached, by upstream and cap (upstream, client, unpriced).");
        meter.CreateObservableGauge("sluice.proxy.spend.reserved_usd", () => PerUpstream(runtimes, r => r.Spend.IsCapped ? (double)r.Spend.Reserved : null), "{USD}", "Worst cases reserved now by requests in flight under a spend cap, by upstream.");
        meter.CreateObservableGauge("sluice.proxy.spend.today_usd", () => PerUpstream(runtimes, r => r.Spend.UpstreamCap is { } cap ? (double)cap.GetSnapshot().Settled : null), "{USD}", "Spent today (UTC) under the upstream's daily cap, by upstream.");
        meter.CreateObservableGauge("sluice.proxy.spend.limit_usd", () => PerUpstream(runtimes, r => r.Spend.UpstreamCap is { } cap ? (double)cap.Limit : null), "{USD}", "The upstream's daily spend cap, by upstream.");
        meter.CreateObservableGauge("sluice.proxy.spend.clients", () => PerUpstream(runtimes, r => r.Upstream.MaxSpendPerClientPerDay is null ? null : r.Spend.ClientsTracked), "{client}", "Clients whose daily spend is tracked, by upstream (bounded by --max-partitions).");
        Responses = meter.CreateCounter<long>("sluice.proxy.responses", "{response}", "Answers given to clients, by upstream and HTTP status.");
        Cache = meter.CreateCounter<long>("sluice.proxy.cache", "{request}", "Requests that met the response cache, by upstream and result (hit, miss, bypass).");
        TenantRequests = meter.CreateCounter<long>("sluice.proxy.tenant.requests", "{request}", "Requests by tenant (tag tenant: its name, never its key), counted once the tenant is known.");
        TenantAnswered = meter.CreateCounter<long>("sluice.proxy.tenant.answered", "{request}", "Requests answered by the upstream (or the cache), by tenant.");
        TenantRefused = meter.CreateCounter<long>("sluice.proxy.tenant.refused", "{request}", "Requests the proxy answered itself (429, 402, 503, 502), by tenant and reason.");
        TurnedAway = meter.CreateCounter<long>("sluice.proxy.turned_away", "{request}", "Requests the proxy answered itself, by reason (queue_full, max_wait, draining, ...).");
        if (cache is not null)
        {
            meter.CreateObservableGauge("sluice.proxy.cache.entries", () => cache.Statistics.Entries, "{entry}", "Answers held in the response cache.");
            meter.CreateObservableGauge("sluice.proxy.cache.size", () => cache.Statistics.Bytes, "By", "Bytes the response cache's entries take.");
            meter.CreateObservableGauge("sluice.proxy.cache.disabled", () => cache.Statistics.DisabledReason is null ? 0 : 1, "{cache}", "1 when the cache file was found damaged or foreign and is ignored.");
        }

        meter.CreateObservableGauge("sluice.partition.requests_available", () => Read(s => s.RequestsAvailable), "{request}", "Requests that could start now under the request budget.");
        meter.CreateObservableGauge("sluice.partition.tokens_available", () => Read(s => s.TokensAvailable), "{token}", "Tokens available now under the token budget.");
        meter.CreateObservableGauge("sluice.partition.paused", () => Read(s => s.PausedUntil is null ? 0 : 1), "{partition}", "1 while the partition is paused for a provider's Retry-After.");
        meter.CreateObservableGauge("sluice.partition.stopped", () => Read(s => s.StopReason is null ? 0 : 1), "{partition}", "1 when the partition is stopped (quota, rejected credentials, parked).");
    }

    public Counter<long> Responses { get; }

    public Counter<long> TurnedAway { get; }

    public Counter<long> TenantRequests { get; }

    public Counter<long> TenantAnswered { get; }

    public Counter<long> TenantRefused { get; }

    public Counter<long> Cache { get; }

    public Counter<double> Spend { get; }

    public Counter<long> SpendCapRefusals { get; }

    private static IEnumerable<Measurement<double>> PerUpstream(IReadOnlyList<ProxyUpstreamRuntime> runtimes, Func<ProxyUpstreamRuntime, double?> value)
    {
        foreach (var runtime in runtimes)
        {
            if (value(runtime) is double measured)
            {
                yield return new Measurement<double>(measured, new KeyValuePair<string, object?>("sluice.upstream", runtime.Upstream.Name));
            }
        }
    }

    private IEnumerable<Measurement<double>> Read(Func<PartitionSnapshot, double?> value)
    {
        foreach (var (runtime, partition) in _partitions())
        {
            var snapshot = partition.GetSnapshot();
            if (value(snapshot) is double measured)
            {
                yield return new Measurement<double>(
                    measured,
                    new KeyValuePair<string, object?>("sluice.upstream", runtime.Upstream.Name),
                    new KeyValuePair<string, object?>("sluice.partition", partition.Key));
            }
        }
    }
}
