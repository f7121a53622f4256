using System.Net;
using Sluice.Cli.Proxy;
using Sluice.Providers;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxySettingsResolverTests
{
    private static readonly Dictionary<string, string?> Environment = new()
    {
        ["OPENAI_API_KEY"] = "sk-openai-secret",
        ["ANTHROPIC_API_KEY"] = "sk-ant-secret",
        ["PROXY_KEY"] = "proxy-secret",
    };

    private static ProxySettings Resolve(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        ProxySettingsResolver.Resolve(arguments, config ?? new ProxyConfigFile(), name => Environment.GetValueOrDefault(name));

    private static string Error(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        Assert.Throws<FormatException>(() => Resolve(arguments, config)).Message;

    [Fact]
    public void Upstream_Alone_Defaults()
    {
        var settings = Resolve(new ProxyArguments { Upstream = "https://api.openai.com" });

        var upstream = Assert.Single(settings.Upstreams);
        Assert.Equal("default", upstream.Name);
        Assert.True(upstream.IsDefault);
        Assert.Null(upstream.ApiKey);
        Assert.Null(upstream.Concurrency);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 8787), settings.Listen);
        Assert.Equal(TimeSpan.FromMinutes(5), settings.MaxWait);
        Assert.Equal(32L * 1024 * 1024, settings.MaxRequestBodyBytes);
        Assert.Equal(20_000, settings.MaxQueueTotal);
        Assert.Equal(1_000, settings.MaxPartitions);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.PartitionIdle);
        Assert.Equal(100, settings.MaxModels);
    }

    [Fact]
    public void Bounds_FromOptionsOverTheFile_ReachTheProxysOptions()
    {
        var config = new ProxyConfigFile { MaxQueueTotal = 7, MaxPartitions = 8, PartitionIdle = TimeSpan.FromMinutes(3), MaxModels = 0 };

        var settings = Resolve(new ProxyArguments { Upstream = "http://option", MaxPartitions = 9 }, config);
        var options = new SluiceProxyOptions();
        settings.ApplyTo(options);

        Assert.Equal((7, 9, TimeSpan.FromMinutes(3), 0), (options.MaxQueueTotal, options.MaxPartitions, options.PartitionIdleTimeout, options.MaxModels));
    }

    [Fact]
    public void Options_WinOverTheFile()
    {
        var config = new ProxyConfigFile { Single = new UpstreamConfig("") { Url = "http://file", RequestsPerMinute = 10, TokensPerMinute = 99 }, MaxWait = TimeSpan.FromSeconds(5) };

        var settings = Resolve(new ProxyArguments { Upstream = "http://option", RequestsPerMinute = 20, MaxWait = TimeSpan.FromSeconds(7) }, config);

        var upstream = Assert.Single(settings.Upstreams);
        Assert.Equal("option", upstream.Url.Host);
        Assert.Equal(20, upstream.RequestsPerMinute);
        Assert.Equal(99, upstream.TokensPerMinute);
        Assert.Equal(TimeSpan.FromSeconds(7), settings.MaxWait);
    }

    [Fact]
    public void ApiKeyEnv_ReadsTheKey_AndToStringNeverShowsIt()
    {
        var settings = Resolve(new ProxyArguments { Upstream = "https://api.openai.com", ApiKeyEnv = "OPENAI_API_KEY" });

        Assert.Equal("sk-openai-secret", settings.Upstreams[0].ApiKey);
        Assert.DoesNotContain("sk-openai-secret", settings.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-openai-secret", settings.Upstreams[0].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url", "--upstream: 'not a url' is not an http:// or https:// URL")]
    [InlineData("ftp://x", "is not an http:// or https:// URL")]
    [InlineData("https://user:pw@api.openai.com", "without user info")]
    public void BadUpstream_NamesTheOption(string url, string expected) =>
        Assert.Contains(expected, Error(new ProxyArguments { Upstream = url }), StringComparison.Ordinal);

    [Fact]
    public void MissingKeyVariable_NamesIt() =>
        Assert.Equal(
            "no API key for upstream 'default': set NOT_SET_KEY (named by --api-key-env), or leave api_key_env out to pass clients' keys through",
            Error(new ProxyArguments { Upstream = "https://api.openai.com", ApiKeyEnv = "NOT_SET_KEY" }));

    [Fact]
    public void NoUpstream_SaysHowToGiveOne() =>
        Assert.StartsWith("no upstream: give --upstream URL", Error(new ProxyArguments()), StringComparison.Ordinal);

    [Fact]
    public void BudgetsWithoutUpstream_AreRefused() =>
        Assert.Contains("describe --upstream", Error(new ProxyArguments { RequestsPerMinute = 5 }, new ProxyConfigFile { Upstreams = [new UpstreamConfig("a") { Url = "http://a" }] }), StringComparison.Ordinal);

    [Fact]
    public void NonLoopbackListen_NeedsAllowRemote()
    {
        var arguments = new ProxyArguments { Upstream = "http://a", Listen = new IPEndPoint(IPAddress.Any, 8787) };

        Assert.Contains("add --allow-remote", Error(arguments), StringComparison.Ordinal);
        Assert.True(Resolve(arguments with { AllowRemote = true }).AllowRemote);
    }

    [Fact]
    public void SeveralUpstreams_WithUpstreamOption_MakeItTheDefault()
    {
        var config = new ProxyConfigFile
        {
            Upstreams = [new UpstreamConfig("anthropic") { Url = "https://api.anthropic.com", Provider = ProviderKind.Anthropic, ApiKeyEnv = "ANTHROPIC_API_KEY", Prefix = "/anthropic" }],
        };

        var settings = Resolve(new ProxyArguments { Upstream = "https://api.openai.com" }, config);

        Assert.Equal(["default", "anthropic"], settings.Upstreams.Select(u => u.Name));
        Assert.True(settings.Upstreams[0].IsDefault);
        Assert.Equal("sk-ant-secret", settings.Upstreams[1].ApiKey);
    }

    [Theory]
    [InlineData("v1", "prefix must look like")]
    [InlineData("/v1", "prefix must look like")]
    [InlineData("/a/", "prefix must look like")]
    [InlineData("/../x", "prefix must look like")]
    public void BadPrefix_IsRefused(string prefix, string expected) =>
        Assert.Contains(expected, Error(new ProxyArguments(), new ProxyConfigFile { Upstreams = [new UpstreamConfig("a") { Url = "http://a", Prefix = prefix }] }), StringComparison.Ordinal);

    [Fact]
    public void TwoDefaults_AreRefused() =>
        Assert.StartsWith("only one upstream may be the default", Error(new ProxyArguments(), new ProxyConfigFile
        {
            Upstreams = [new UpstreamConfig("a") { Url = "http://a", IsDefault = true }, new UpstreamConfig("b") { Url = "http://b", IsDefault = true }],
        }), StringComparison.Ordinal);

    [Fact]
    public void OneModelOnTwoUpstreams_IsRefused() =>
        Assert.Contains("a model routes to one upstream", Error(new ProxyArguments(), new ProxyConfigFile
        {
            Upstreams = [new UpstreamConfig("a") { Url = "http://a", Models = [new ModelBudget("m")] }, new UpstreamConfig("b") { Url = "http://b", Models = [new ModelBudget("m")] }],
        }), StringComparison.Ordinal);

    [Fact]
    public void ProxyKey_NeedsTheProxyToHoldEveryKey()
    {
        Assert.Contains("needs the proxy to hold every upstream's key", Error(new ProxyArguments { Upstream = "http://a", ProxyKeyEnv = "PROXY_KEY" }), StringComparison.Ordinal);

        var settings = Resolve(new ProxyArguments { Upstream = "http://a", ApiKeyEnv = "OPENAI_API_KEY", ProxyKeyEnv = "PROXY_KEY" });
        Assert.Equal("proxy-secret", settings.ProxyKey);
        Assert.DoesNotContain("proxy-secret", settings.ToString(), StringComparison.Ordinal);
    }
}
