using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sluice.Mock.Endpoints;
using Sluice.Mock.Hosting;

namespace Sluice.Mock;

/// <summary>
/// A running rate-limited OpenAI- and Anthropic-compatible mock on Kestrel. Start it with
/// <see cref="StartAsync(MockOptions, CancellationToken)"/>, point a client at <see cref="BaseUrl"/>
/// (OpenAI SDKs at <c>BaseUrl + "v1"</c>), and dispose it to stop.
/// </summary>
public sealed class MockServer : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly MockEngine _engine;
    private readonly CancellationTokenSource _stopping;
    private int _disposed;

    private MockServer(WebApplication app, MockEngine engine, CancellationTokenSource stopping, Uri baseUrl)
    {
        _app = app;
        _engine = engine;
        _stopping = stopping;
        BaseUrl = baseUrl;
    }

    /// <summary>The root URL the mock answers on, with the port actually bound, e.g. <c>http://127.0.0.1:50123/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The budgets in force.</summary>
    public MockLimits Limits => _engine.Gate.Limits;

    /// <summary>Validates the options, starts listening, and returns once the mock accepts connections.</summary>
    /// <param name="options">How to listen, what to enforce and which faults to inject.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running mock.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some option is invalid; the message lists every problem.</exception>
    /// <exception cref="IOException">The address could not be bound, for example because the port is in use.</exception>
    public static async Task<MockServer> StartAsync(MockOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var stopping = new CancellationTokenSource();
        var engine = new MockEngine(options, stopping.Token);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = typeof(MockServer).Assembly.GetName().Name });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(options.ListenAddress, options.Port);
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<IHostLifetime, DetachedLifetime>();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = ShutdownTimeout);
        var app = builder.Build();
        MockRoutes.Map(app, engine);

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            stopping.Dispose();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new MockServer(app, engine, stopping, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>
    /// Applies new budgets from now on, as a provider changing an account's limits mid-run. Refill up to now
    /// follows the old budgets; a new budget starts with a full bucket.
    /// </summary>
    /// <param name="limits">The budgets to enforce.</param>
    /// <exception cref="ArgumentException">The limits are invalid; the message lists every problem.</exception>
    public void SetLimits(MockLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var problems = limits.Validate("").ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(limits));
        }

        _engine.Gate.SetLimits(limits);
    }

    /// <summary>What the mock has seen since it started or was last reset, as <c>GET /mock/stats</c> reports it.</summary>
    /// <returns>A snapshot of the statistics.</returns>
    public MockStats GetStats() => _engine.Snapshot();

    /// <summary>
    /// Zeroes the statistics and the audit, refills the buckets and restarts the fault, latency and id
    /// sequences, as <c>POST /mock/reset</c> does. Budgets stay as they are.
    /// </summary>
    public void Reset() => _engine.Reset();

    /// <summary>Stops the mock: hanging and slow answers end at once (their connections are aborted), then Kestrel stops.</summary>
    /// <returns>A task that completes when the mock has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        using (var timeout = new CancellationTokenSource(ShutdownTimeout))
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
