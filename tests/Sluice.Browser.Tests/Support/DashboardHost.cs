using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Browser.Tests.Support;

/// <summary>
/// Mocks on 127.0.0.1 and a Sluice proxy in front of them, hosted the way a user hosts it (<c>AddSluiceProxy</c>,
/// <c>MapSluiceProxy</c>), every one on a port the OS picks.
/// </summary>
internal sealed class DashboardHost : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly IReadOnlyList<MockServer> _mocks;
    private WebApplication? _app;

    private DashboardHost(IReadOnlyList<MockServer> mocks, WebApplication app)
    {
        _mocks = mocks;
        _app = app;
        BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
    }

    /// <summary>The proxy's root, ending with a slash.</summary>
    public Uri BaseUrl { get; }

    /// <summary>The dashboard's page.</summary>
    public Uri Page => new(BaseUrl, "sluice/");

    /// <summary>The mock behind the first upstream, and so on.</summary>
    public IReadOnlyList<MockServer> Mocks => _mocks;

    /// <summary>Starts one mock per entry of <paramref name="mocks"/>, then the proxy configured with their URLs.</summary>
    public static async Task<DashboardHost> StartAsync(IReadOnlyList<MockOptions> mocks, Action<SluiceProxyOptions, IReadOnlyList<Uri>> configure)
    {
        var started = new List<MockServer>();
        try
        {
            foreach (var options in mocks)
            {
                started.Add(await MockServer.StartAsync(options).WaitAsync(Bound));
            }

            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            builder.Services.AddSluiceProxy(options => configure(options, [.. started.Select(m => m.BaseUrl)]));
            var app = builder.Build();
            app.MapSluiceProxy();
            try
            {
                await app.StartAsync().WaitAsync(Bound);
            }
            catch
            {
                await app.DisposeAsync();
                throw;
            }

            return new DashboardHost(started, app);
        }
        catch
        {
            foreach (var mock in started)
            {
                await mock.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Stops the proxy (the mocks go on): the page must then say the proxy is unreachable.</summary>
    public async Task StopProxyAsync()
    {
        if (Interlocked.Exchange(ref _app, null) is { } app)
        {
            await app.StopAsync().WaitAsync(Bound);
            await app.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopProxyAsync();
        foreach (var mock in _mocks)
        {
            await mock.DisposeAsync();
        }
    }
}
