using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sluice.Proxy;

/// <summary>
/// Hosts a Sluice proxy inside any ASP.NET Core app, the way YARP's <c>AddReverseProxy</c> and
/// <c>MapReverseProxy</c> do: <c>builder.Services.AddSluiceProxy(...)</c>, then <c>app.MapSluiceProxy()</c>.
/// </summary>
public static class SluiceProxyExtensions
{
    /// <summary>Registers the proxy, configured in code; its options are validated when the host starts.</summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configure">Sets the upstreams and limits.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddSluiceProxy(this IServiceCollection services, Action<SluiceProxyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return Register(services, services.AddOptions<SluiceProxyOptions>().Configure(configure));
    }

    /// <summary>
    /// Registers the proxy with options bound from <paramref name="section"/> (conventionally <c>SluiceProxy</c>:
    /// <c>SluiceProxy:Upstreams:0:Name</c>, <c>…:Url</c>, <c>…:RequestsPerMinute</c>, <c>SluiceProxy:MaxWait</c>, …),
    /// then adjusted by <paramref name="configure"/> (where a key read from a secret store belongs).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="section">The configuration section.</param>
    /// <param name="configure">Further settings in code.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddSluiceProxy(this IServiceCollection services, IConfiguration section, Action<SluiceProxyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(section);
        var options = services.AddOptions<SluiceProxyOptions>().Bind(section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Register(services, options);
    }

    /// <summary>
    /// Maps the proxy: <c>GET /sluice/status</c> (upstreams, partitions and tenants, never a key; it needs the proxy key
    /// when one is set, else a tenant's key when tenants have keys) and every other path to the
    /// forwarder, which answers paths under <c>/v1/</c> (or an upstream's prefix) and refuses the rest. Map the host's
    /// own endpoints (health, metrics) before or beside it: they take precedence over the catch-all.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <returns>The forwarder's endpoint, for conventions such as authorization or rate limiting.</returns>
    public static IEndpointConventionBuilder MapSluiceProxy(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var proxy = endpoints.ServiceProvider.GetRequiredService<SluiceProxy>();
        endpoints.MapGet("/sluice/status", proxy.WriteStatusAsync);
        return endpoints.Map("{**path}", proxy.Forwarder.HandleAsync);
    }

    private static IServiceCollection Register(IServiceCollection services, OptionsBuilder<SluiceProxyOptions> options)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SluiceProxyOptions>, SluiceProxyOptionsValidator>());
        options.ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton(provider => new SluiceProxy(
            provider.GetRequiredService<IOptions<SluiceProxyOptions>>(),
            provider.GetRequiredService<IMeterFactory>(),
            provider.GetService<TimeProvider>(),
            provider.GetService<ILoggerFactory>()));
        return services;
    }
}
