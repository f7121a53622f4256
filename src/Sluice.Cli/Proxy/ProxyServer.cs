using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Sluice.Cache;
using Sluice.Caching;
using Sluice.Proxy;
using Sluice.Telemetry;

namespace Sluice.Cli.Proxy;

/// <summary>
/// A running <c>sluice proxy</c>: a Kestrel host around the <see cref="SluiceProxy"/> library — <c>/v1/…</c> (and
/// <c>/PREFIX/v1/…</c>) and <c>GET /sluice/status</c> mapped by <c>MapSluiceProxy</c>, plus the host's own
/// <c>GET /healthz</c> and <c>GET /metrics</c> (Prometheus text, by OpenTelemetry's exporter, meters <c>Sluice</c> and
/// <c>Sluice.Proxy</c>). The command and the tests both start it here; the owner stops it with
/// <see cref="DrainAsync"/> (graceful) and <see cref="DisposeAsync"/>. It never handles signals itself.
/// </summary>
internal sealed class ProxyServer : IAsyncDisposable
{
    private static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly WebApplication _app;
    private readonly ProxySettings _settings;
    private int _disposed;

    private readonly ResponseCache? _cache;

    private ProxyServer(WebApplication app, ProxySettings settings, SluiceProxy proxy, Uri baseUrl, ResponseCache? cache)
    {
        _cache = cache;
        _app = app;
        _settings = settings;
        Proxy = proxy;
        BaseUrl = baseUrl;
    }

    /// <summary>The root URL with the port actually bound, such as <c>http://127.0.0.1:8787/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The proxy the host runs: its upstreams' engines.</summary>
    public SluiceProxy Proxy { get; }

    public bool IsDraining => Proxy.IsDraining;

    /// <summary>Requests with an upstream now, over every partition.</summary>
    public int InFlight => Proxy.InFlight;

    /// <summary>Starts listening; returns once connections are accepted.</summary>
    /// <param name="settings">Resolved settings.</param>
    /// <param name="logging">Adds log providers; null for the console (stderr).</param>
    /// <param name="time">The clock; the system's when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="IOException">The address could not be bound, for example because the port is in use.</exception>
    public static async Task<ProxyServer> StartAsync(
        ProxySettings settings,
        Action<ILoggingBuilder>? logging = null,
        TimeProvider? time = null,
        CancellationToken cancellationToken = default)
    {
        time ??= TimeProvider.System;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(ProxyServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
            kestrel.Listen(settings.Listen);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, DetachedLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.DrainTimeout);
        builder.Services.AddSingleton(time);
        // The cache is opened once the host's logging exists (a damaged file is said once in the log, then ignored) and
        // before the proxy is first resolved, which is when these options are configured; it is closed after the app.
        ResponseCache? cache = null;
        builder.Services.AddSluiceProxy(options =>
        {
            settings.ApplyTo(options);
            options.Cache = cache;
        });
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("sluice-proxy"))
            .WithMetrics(metrics => metrics
            .AddMeter(SluiceTelemetry.Name, SluiceProxy.MeterName)
            // Sluice's histograms are in seconds; the default buckets are sized for milliseconds. Every instrument holds
            // at most as many series as the proxy holds partitions (their tags name partitions, and a removed
            // partition's series stay in a cumulative exporter): past that, new ones add to OpenTelemetry's overflow series.
            .AddView(instrument => instrument.Unit == "s"
                ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBuckets, CardinalityLimit = SeriesLimit(settings) }
                : new MetricStreamConfiguration { CardinalityLimit = SeriesLimit(settings) })
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        // A failed start (port in use) is reported by the command in one line, not as a stack trace.
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None).AddFilter("Sluice", LogLevel.Information);
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            });
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        else
        {
            logging(builder.Logging);
        }

        var app = builder.Build();
        if (settings.CacheFile is { } cacheFile)
        {
            cache = SqliteResponseCache.Open(
                new SqliteResponseCacheOptions { Path = cacheFile, MaxBytes = settings.CacheMaxBytes, MaxAge = settings.CacheMaxAge },
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(SluiceProxy.LogCategory),
                time);
        }

        SluiceProxy proxy;
        try
        {
            proxy = app.Services.GetRequiredService<SluiceProxy>();
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            cache?.Dispose();
            throw;
        }

        app.MapGet("/healthz", (HttpContext context) =>
        {
            context.Response.StatusCode = proxy.IsDraining ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            return context.Response.WriteAsync(proxy.IsDraining ? "draining\n" : "ok\n", context.RequestAborted);
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapSluiceProxy();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(SluiceProxy.LogCategory);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            cache?.Dispose();
            throw;
        }

        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var server = new ProxyServer(app, settings, proxy, new Uri(address.TrimEnd('/') + "/"), cache);
        ProxyHostLog.Listening(logger, server.BaseUrl.ToString(), string.Join(", ", settings.Upstreams));
        return server;
    }

    /// <summary>The most series one instrument exports: one per partition the proxy can hold, and a few more.</summary>
    internal static int SeriesLimit(ProxySettings settings) => (settings.MaxPartitions * settings.Upstreams.Count) + 16;

    /// <summary>
    /// Graceful stop: requests still waiting for their turn get a 503 with Retry-After, no new connection is accepted,
    /// and requests in flight (streams included) finish — for at most the drain timeout, then they are cut.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken = default)
    {
        if (Proxy.IsDraining)
        {
            return;
        }

        ProxyHostLog.Draining(_app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(SluiceProxy.LogCategory), InFlight, _settings.DrainTimeout);
        Proxy.Drain();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.DrainTimeout);
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Proxy.Drain();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }

        // The app's services own the proxy and dispose its engines; the cache outlives them, as its owner.
        await _app.DisposeAsync().ConfigureAwait(false);
        _cache?.Dispose();
    }

    /// <summary>Leaves Ctrl-C and SIGTERM to the proxy's owner: the command drains on them, tests never see them.</summary>
    private sealed class DetachedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
