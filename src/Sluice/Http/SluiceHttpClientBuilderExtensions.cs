using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sluice.Engine;

namespace Sluice.Http;

/// <summary>Puts Sluice under a client made by the HTTP client factory.</summary>
public static class SluiceHttpClientBuilderExtensions
{
    /// <summary>
    /// Adds a <see cref="SluiceHandler"/> to the client. Every handler the factory makes for this client shares one
    /// gate, so budgets hold across handler lifetimes. Options are validated when the host starts.
    /// </summary>
    /// <param name="builder">The client's builder, from <c>services.AddHttpClient(...)</c>.</param>
    /// <param name="configure">Sets the options in code.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddSluice(this IHttpClientBuilder builder, Action<SluiceHandlerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        return AddHandler(builder, builder.Services.AddOptions<SluiceHandlerOptions>(builder.Name).Configure(configure));
    }

    /// <summary>
    /// Adds a <see cref="SluiceHandler"/> whose options are bound from <paramref name="section"/> (conventionally
    /// <c>Sluice</c>: <c>Sluice:Provider</c>, <c>Sluice:DefaultLimits:RequestsPerWindow</c>,
    /// <c>Sluice:Partitions:gpt-4o:TokensPerWindow</c>, <c>Sluice:Retry:MaxAttempts</c>, …), then adjusted by
    /// <paramref name="configure"/>.
    /// </summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="section">The configuration section.</param>
    /// <param name="configure">Further settings in code, such as <see cref="SluiceHandlerOptions.RefreshCredentials"/>.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddSluice(this IHttpClientBuilder builder, IConfiguration section, Action<SluiceHandlerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var options = builder.Services.AddOptions<SluiceHandlerOptions>(builder.Name).Bind(section);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddHandler(builder, options);
    }

    private static IHttpClientBuilder AddHandler(IHttpClientBuilder builder, OptionsBuilder<SluiceHandlerOptions> options)
    {
        string name = builder.Name;
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SluiceHandlerOptions>, SluiceHandlerOptionsValidator>());
        options.ValidateOnStart();
        builder.Services.AddKeyedSingleton(name, (services, _) => new SluiceEngine(
            services.GetRequiredService<IOptionsMonitor<SluiceHandlerOptions>>().Get(name),
            transport: null,
            services.GetService<TimeProvider>() ?? TimeProvider.System,
            services.GetService<ILoggerFactory>(),
            services.GetService<IMeterFactory>(),
            new Random()));
        builder.AddHttpMessageHandler(services => new SluiceHandler(services.GetRequiredKeyedService<SluiceEngine>(name)));
        return builder;
    }
}
