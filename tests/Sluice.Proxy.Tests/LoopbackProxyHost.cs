using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Proxy.Tests;

/// <summary>An ASP.NET Core app hosting the proxy (<c>MapSluiceProxy</c>) on a loopback port the OS picks.</summary>
internal static class LoopbackProxyHost
{
    /// <summary>Builds the app with <paramref name="configure"/> (services, logging), maps the proxy and starts it within <paramref name="bound"/>.</summary>
    public static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, TimeSpan bound)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        configure(builder);
        var app = builder.Build();
        app.MapSluiceProxy();
        try
        {
            await app.StartAsync().WaitAsync(bound);
            return app;
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>The address the started app listens on.</summary>
    public static Uri BaseUrl(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
}
