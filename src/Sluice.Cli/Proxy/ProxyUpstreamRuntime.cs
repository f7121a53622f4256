using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Http;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The library's machinery for one upstream, exactly as <see cref="SluiceHandler"/> uses it: a
/// <see cref="SluiceRuntime"/> (gate, dispatcher, provider profile, stop answers) and a <see cref="ProviderAttempt"/>
/// that sends through the proxy's shared connection pool. Partitions are named
/// <c>upstream|key:fingerprint|model-group</c>, so model groups find their budgets by the key's last part.
/// </summary>
internal sealed class ProxyUpstreamRuntime : IDisposable
{
    private readonly Dictionary<string, PartitionLimits> _byGroup;
    private readonly PartitionLimits _defaultLimits;

    public ProxyUpstreamRuntime(
        ProxyUpstream upstream,
        ProxySettings settings,
        HttpMessageInvoker http,
        TimeProvider time,
        ILoggerFactory? loggerFactory,
        IMeterFactory? meterFactory,
        Random random)
    {
        Upstream = upstream;
        _defaultLimits = ProxyLimits.For(upstream, settings.MaxQueue);
        var options = new SluiceHandlerOptions
        {
            Provider = upstream.Provider,
            DefaultLimits = _defaultLimits,
            // Each partition's limits say whether its concurrency is learned (ProxyLimits): a number given is fixed.
            AdaptiveConcurrency = false,
            Retry = new DispatcherOptions { MaxAttempts = settings.MaxAttempts, AttemptTimeout = settings.Timeout },
        };
        _byGroup = new Dictionary<string, PartitionLimits>(StringComparer.OrdinalIgnoreCase);
        foreach (var group in upstream.Models)
        {
            _byGroup[group.Pattern] = options.Partitions[group.Pattern] = ProxyLimits.For(upstream, group, settings.MaxQueue);
        }

        Sluice = new SluiceRuntime(options, time, loggerFactory, meterFactory, random);
        Attempt = new ProviderAttempt((message, token) => http.SendAsync(message, token), Sluice.Profile, time);
    }

    public ProxyUpstream Upstream { get; }

    public SluiceRuntime Sluice { get; }

    /// <summary>The upstream's gate: its partitions and their snapshots.</summary>
    public SluiceGate Gate => Sluice.Gate;

    public ProviderAttempt Attempt { get; }

    /// <summary>The partition key of a request: never the credential itself, only its fingerprint.</summary>
    public string PartitionKey(HttpRequestMessage message, string modelGroup) =>
        $"{Upstream.Name}|key:{PartitionKeys.Fingerprint(message)}|{modelGroup}";

    /// <summary>The limits a partition of this upstream runs under.</summary>
    public PartitionLimits LimitsOf(string partitionKey) =>
        _byGroup.GetValueOrDefault(PartitionKeys.ModelOf(partitionKey)) ?? _defaultLimits;

    public void Dispose() => Sluice.Dispose();
}
