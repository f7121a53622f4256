using Sluice.Cli.Proxy;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

/// <summary><c>sluice proxy --redis</c>, the file's <c>redis</c> and <c>SLUICE_PROXY_REDIS</c>: checked at start, never shown with a password.</summary>
public sealed class ProxyRedisSettingsTests
{
    private static ProxySettings Resolve(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        ProxySettingsResolver.Resolve(arguments, config ?? new ProxyConfigFile(), _ => null);

    [Fact]
    public void NoRedis_KeepsTheGateInThisProcess()
    {
        var settings = Resolve(new ProxyArguments { Upstream = "http://127.0.0.1:9" });
        var options = new SluiceProxyOptions();
        settings.ApplyTo(options);

        Assert.Null(settings.Redis);
        Assert.Null(options.GateFactory);
    }

    [Fact]
    public void Redis_FromTheOption_OverTheFile_GivesEveryUpstreamARedisGate()
    {
        var settings = Resolve(
            new ProxyArguments { Upstream = "http://127.0.0.1:9", Redis = "10.0.0.5:6380" },
            new ProxyConfigFile { Redis = "10.0.0.6:6379" });
        var options = new SluiceProxyOptions();
        settings.ApplyTo(options);

        Assert.Equal("10.0.0.5:6380", settings.Redis);
        Assert.NotNull(options.GateFactory);
    }

    [Fact]
    public void Redis_FromTheFileOrItsVariable()
    {
        var config = ProxyConfigFile.Read(null, new Dictionary<string, string?>
        {
            ["SLUICE_PROXY_UPSTREAM"] = "http://127.0.0.1:9",
            ["SLUICE_PROXY_REDIS"] = "redis://:s3cret@cache.internal:6390/2",
        });

        var settings = Resolve(new ProxyArguments(), config);

        Assert.Equal("redis://:s3cret@cache.internal:6390/2", settings.Redis);
        Assert.DoesNotContain("s3cret", settings.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis://:s3cret@cache.internal:6390/99", "--redis: Redis: the database in 'cache.internal:6390' must be a number from 0 to 15, not '99'.")]
    [InlineData("redis://user:s3cret@/", "--redis: Redis: '(no host)' is not a valid redis:// URL.")]
    [InlineData("password=s3cret", "--redis: Redis: '(no host)' names no host (expected host:port or redis://host:port).")]
    public void BadRedis_IsOneLineNamingTheOption_WithoutThePassword(string redis, string expected)
    {
        var error = Assert.Throws<FormatException>(() => Resolve(new ProxyArguments { Upstream = "http://127.0.0.1:9", Redis = redis }));

        Assert.Equal(expected, error.Message);
        Assert.DoesNotContain("s3cret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadRedis_FromTheFile_NamesTheSetting()
    {
        var error = Assert.Throws<FormatException>(() => Resolve(new ProxyArguments { Upstream = "http://127.0.0.1:9" }, new ProxyConfigFile { Redis = "password=s3cret" }));

        Assert.StartsWith("redis: Redis:", error.Message, StringComparison.Ordinal);
    }
}
