using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sluice.Http;
using Sluice.Redis.Http;

namespace Sluice.Redis.Tests.Http;

/// <summary><c>AddSluice(...).UseRedis(...)</c>: the named client's engine gets a gate made through Redis; other clients keep theirs.</summary>
public sealed class UseRedisTests
{
    [Fact]
    public void UseRedis_SetsTheGateFactoryOfThatClientOnly()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("shared").AddSluice(_ => { }).UseRedis("127.0.0.1:6390");
        services.AddHttpClient("alone").AddSluice(_ => { });
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptionsMonitor<SluiceHandlerOptions>>();

        Assert.NotNull(options.Get("shared").GateFactory);
        Assert.Null(options.Get("alone").GateFactory);
    }

    [Fact]
    public void UseRedis_FromConfiguration_BindsTheSection()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Sluice:Redis:Configuration"] = "redis://cache.internal:6390",
            ["Sluice:Redis:KeyPrefix"] = "team-a",
        }).Build();
        var services = new ServiceCollection();
        services.AddHttpClient("shared").AddSluice(_ => { }).UseRedis(configuration.GetSection("Sluice:Redis"));
        using var provider = services.BuildServiceProvider();

        Assert.NotNull(provider.GetRequiredService<IOptionsMonitor<SluiceHandlerOptions>>().Get("shared").GateFactory);
    }

    [Fact]
    public void UseRedis_WithABadAddress_FailsWhereTheClientIsConfigured_WithoutThePassword()
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddHttpClient("shared").AddSluice(_ => { }).UseRedis("redis://:s3cret@cache:6379/99"));

        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }
}
