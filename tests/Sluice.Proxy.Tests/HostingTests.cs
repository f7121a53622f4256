using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sluice.Mock;

namespace Sluice.Proxy.Tests;

/// <summary>
/// The proxy hosted the way a user hosts it: an ASP.NET Core app of their own with <c>AddSluiceProxy</c> and
/// <c>MapSluiceProxy</c>, on a loopback port the OS picks, in front of the mock on another.
/// </summary>
public sealed class HostingTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task HostedInAnyApp_ForwardsThroughTheEngine_AndReportsStatus()
    {
        await using var mock = await MockServer.StartAsync(new MockOptions { Limits = new MockLimits { RequestsPerMinute = 6_000 } }).WaitAsync(Bound);
        await using var app = await StartAsync(services => services.AddSluiceProxy(options =>
            options.Upstreams.Add(new ProxyUpstream { Name = "mock", Url = mock.BaseUrl, RequestsPerMinute = 600, IsDefault = true })));
        using var client = new HttpClient { BaseAddress = BaseUrl(app), Timeout = Bound };

        using var answer = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } });
        using var status = JsonDocument.Parse(await client.GetStringAsync("/sluice/status"));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(1, mock.GetStats().Succeeded);
        var upstream = Assert.Single(status.RootElement.GetProperty("upstreams").EnumerateArray());
        Assert.Equal("mock", upstream.GetProperty("name").GetString());
        var partition = Assert.Single(upstream.GetProperty("partitions").EnumerateArray());
        Assert.Equal("mock|key:none|gpt-4o-mini", partition.GetProperty("key").GetString());
        Assert.Equal(600, partition.GetProperty("rpm").GetDouble());
        var engine = app.Services.GetRequiredService<SluiceProxy>().GetEngine("mock");
        Assert.Equal("mock|key:none|gpt-4o-mini", Assert.Single(engine.Gate.Partitions).Key);
    }

    [Fact]
    public async Task OptionsBoundFromConfiguration_ConfigureTheUpstreams()
    {
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(Bound);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SluiceProxy:MaxWait"] = "00:00:30",
            ["SluiceProxy:Upstreams:0:Name"] = "configured",
            ["SluiceProxy:Upstreams:0:Url"] = mock.BaseUrl.ToString(),
            ["SluiceProxy:Upstreams:0:RequestsPerMinute"] = "120",
            ["SluiceProxy:Upstreams:0:Models:0:Pattern"] = "gpt-4o*",
            ["SluiceProxy:Upstreams:0:Models:0:RequestsPerMinute"] = "60",
        }).Build();
        await using var app = await StartAsync(services => services.AddSluiceProxy(configuration.GetSection("SluiceProxy")));
        using var client = new HttpClient { BaseAddress = BaseUrl(app), Timeout = Bound };

        using var answer = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var proxy = app.Services.GetRequiredService<SluiceProxy>();
        Assert.Equal(TimeSpan.FromSeconds(30), proxy.Options.MaxWait);
        var partition = Assert.Single(proxy.GetEngine("configured").Gate.Partitions);
        Assert.Equal("configured|key:none|gpt-4o*", partition.Key);
        Assert.Equal(60, partition.GetSnapshot().RequestsPerMinute);
    }

    [Fact]
    public async Task InvalidOptions_FailTheHostAtStart_NamingEveryProblem()
    {
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => StartAsync(services => services.AddSluiceProxy(options =>
        {
            options.Upstreams.Add(new ProxyUpstream { Name = "a", Url = new Uri("ftp://example.com") });
            options.Upstreams.Add(new ProxyUpstream { Name = "a", Url = new Uri("http://example.com"), Prefix = "/../x" });
            options.MaxAttempts = 0;
        })));

        Assert.Contains(exception.Failures, f => f.Contains("Url must be an absolute http", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("Prefix must look like", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("used twice", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("MaxAttempts", StringComparison.Ordinal));
    }

    private static Task<WebApplication> StartAsync(Action<IServiceCollection> addProxy) =>
        LoopbackProxyHost.StartAsync(builder => addProxy(builder.Services), Bound);

    private static Uri BaseUrl(WebApplication app) => LoopbackProxyHost.BaseUrl(app);
}
