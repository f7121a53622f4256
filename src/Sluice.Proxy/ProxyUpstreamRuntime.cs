using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;

namespace Sluice.Proxy;

/// <summary>
/// One upstream's <see cref="SluiceEngine"/>: the same pipeline <see cref="SluiceHandler"/> and <c>sluice run</c> use,
/// with the upstream's budgets per model group. Its partitions are named <c>upstream|key:fingerprint|model group</c>.
/// </summary>
internal sealed class ProxyUpstreamRuntime : IDisposable
{
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
        };
        foreach (var group in upstream.Models)
        {
            options.Partitions[group.Pattern] = ProxyLimits.For(upstream, group, settings.MaxQueue);
        }

        Engine = new SluiceEngine(options, transport: null, time, loggerFactory, meterFactory, random);
    }

    public ProxyUpstream Upstream { get; }

    public SluiceEngine Engine { get; }

    /// <summary>The upstream's gate: its partitions and their snapshots.</summary>
    public SluiceGate Gate => Engine.Gate;

    /// <summary>The limits a partition of this upstream runs under.</summary>
    public PartitionLimits LimitsOf(string partitionKey) => Engine.LimitsFor(partitionKey);

    public void Dispose() => Engine.Dispose();
}
