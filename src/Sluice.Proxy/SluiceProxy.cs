using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sluice.Engine;

namespace Sluice.Proxy;

/// <summary>
/// A running Sluice proxy: one <see cref="SluiceEngine"/> per upstream, the router that picks one for each request,
/// and the forwarder that sends it. Registered as a singleton by <c>AddSluiceProxy</c> and mapped into the host's
/// routes by <c>MapSluiceProxy</c>; the host owns the listening, the proxy owns the pacing.
/// </summary>
public sealed class SluiceProxy : IDisposable
{
    /// <summary>The proxy's own meter (answers by upstream and status, requests turned away, partition gauges), beside the engine's <c>Sluice</c> meter.</summary>
    public const string MeterName = ProxyMetrics.MeterName;

    /// <summary>The category of the proxy's logs.</summary>
    public const string LogCategory = ProxyLog.Category;

    private readonly IReadOnlyList<ProxyUpstreamRuntime> _runtimes;
    private int _draining;

    /// <summary>Starts the proxy's engines; requests arrive through <c>MapSluiceProxy</c>.</summary>
    /// <param name="options">The upstreams and limits; validated (every problem at once).</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; required for the proxy's own meter.</param>
    /// <param name="random">The source of backoff jitter; a new unseeded one when null.</param>
    /// <exception cref="OptionsValidationException">Some options are invalid.</exception>
    public SluiceProxy(
        IOptions<SluiceProxyOptions> options,
        IMeterFactory meterFactory,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(meterFactory);
        Options = options.Value;
        if (new SluiceProxyOptionsValidator().Validate(null, Options) is { Failed: true } invalid)
        {
            throw new OptionsValidationException(nameof(SluiceProxyOptions), typeof(SluiceProxyOptions), invalid.Failures);
        }

        var time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        random ??= new Random();
        _runtimes = [.. Options.Upstreams.Select(upstream => new ProxyUpstreamRuntime(upstream, Options, time, loggerFactory, meterFactory, random))];
        var metrics = new ProxyMetrics(meterFactory, _runtimes, Options.Cache);
        Forwarder = new ProxyForwarder(Options, _runtimes.ToDictionary(r => r.Upstream.Name, StringComparer.OrdinalIgnoreCase), metrics, time, loggerFactory.CreateLogger(LogCategory));
    }

    /// <summary>The options the proxy runs with.</summary>
    public SluiceProxyOptions Options { get; }

    /// <summary>True once <see cref="Drain"/> was called: the host's health check should say so.</summary>
    public bool IsDraining => Volatile.Read(ref _draining) != 0;

    /// <summary>Requests with an upstream now, over every upstream and partition.</summary>
    public int InFlight => _runtimes.Sum(r => r.Gate.Partitions.Sum(p => p.GetSnapshot().InFlight));

    internal ProxyForwarder Forwarder { get; }

    /// <summary>The engine of one upstream, for inspecting its partitions.</summary>
    /// <param name="upstream">The upstream's name.</param>
    /// <returns>Its engine.</returns>
    /// <exception cref="KeyNotFoundException">No upstream has that name.</exception>
    public SluiceEngine GetEngine(string upstream) =>
        _runtimes.FirstOrDefault(r => string.Equals(r.Upstream.Name, upstream, StringComparison.OrdinalIgnoreCase))?.Engine
        ?? throw new KeyNotFoundException($"No upstream is named '{upstream}'.");

    /// <summary>
    /// Graceful stop: requests waiting for their turn are answered 503 with a Retry-After, nothing new starts, and
    /// requests with an upstream (streams included) finish. Call it before stopping the host.
    /// </summary>
    public void Drain()
    {
        if (Interlocked.Exchange(ref _draining, 1) != 0)
        {
            return;
        }

        foreach (var runtime in _runtimes)
        {
            runtime.Engine.Drain();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var runtime in _runtimes)
        {
            runtime.Dispose();
        }
    }

    /// <summary>
    /// Whether a request may read the status (and the dashboard's data, which is the status): with the proxy key when
    /// one is set, else with any tenant's key when tenants have keys, else freely.
    /// </summary>
    internal bool MayReadStatus(HttpRequest request) => Forwarder.Tenants.MayReadStatus(request.Headers);

    /// <summary><c>GET /sluice/status</c>: upstreams, partitions and tenants, never a key; 401 without the key it needs (<see cref="MayReadStatus"/>).</summary>
    internal Task WriteStatusAsync(HttpContext context)
    {
        if (!MayReadStatus(context.Request))
        {
            return ProxyErrors.WriteAsync(context, 401, Options.Upstreams[0].Provider, "status_key",
                "sluice proxy: the status needs the proxy's key, or a tenant's key when tenants have keys (Authorization: Bearer, or x-api-key).");
        }

        return context.Response.WriteAsJsonAsync(ProxyStatus.Of(Options, _runtimes, Forwarder.Tenants, IsDraining), context.RequestAborted);
    }
}
