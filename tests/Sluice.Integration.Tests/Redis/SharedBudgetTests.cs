using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Cli.Proxy;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Integration.Tests.Proxy;
using Sluice.Mock;
using Sluice.Redis.Http;
using Sluice.Tests.Support;

namespace Sluice.Integration.Tests.Redis;

/// <summary>
/// Two replicas on one key through one real Redis pace as one: each alone is told the whole budget, so without
/// sharing they would send twice the mock's rate and draw a 429 for most of the second half. Faces: two
/// <c>sluice proxy</c> servers given <c>--redis</c>, and two services' <c>HttpClient</c>s given <c>UseRedis</c>.
/// </summary>
public sealed class SharedBudgetTests
{
    private const int RequestsPerMinute = 600;
    private const int PerReplica = 40;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static MockOptions Mock() => new()
    {
        // Two seconds of burst at the mock against the gate's one: room for requests bunched on their way by a busy
        // machine, yet two replicas pacing alone (twice the rate) overrun it within the run.
        Limits = new MockLimits { RequestsPerMinute = RequestsPerMinute, Burst = TimeSpan.FromSeconds(2) },
        ReplyTokens = 5,
    };

    [Fact]
    public async Task TwoProxyReplicas_WithRedis_ShareOneBudget_AndTheUpstreamRefusesNothing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var mock = await MockServer.StartAsync(Mock()).WaitAsync(Bound);
        var settings = ProxyFixture.Single(mock.BaseUrl, rpm: RequestsPerMinute) with { Redis = redis.Configuration };
        await using var first = await ProxyServer.StartAsync(settings).WaitAsync(Bound);
        await using var second = await ProxyServer.StartAsync(settings).WaitAsync(Bound);

        var statuses = await Task.WhenAll(
            SendAsync(first.BaseUrl, PerReplica),
            SendAsync(second.BaseUrl, PerReplica)).WaitAsync(Bound);

        Assert.All(statuses.SelectMany(s => s), status => Assert.Equal(HttpStatusCode.OK, status));
        var stats = mock.GetStats();
        Assert.True(stats.Succeeded >= 2 * PerReplica, $"{stats.Succeeded} answered");
        // Pacing one budget from two processes: the upstream refuses next to nothing (a CI box has drawn 4, when a
        // Redis call outlasted its timeout and a replica paced alone for a moment); twice the rate draws 18 or more.
        Assert.True(stats.Rejected.Values.Sum() <= 8, $"the mock refused {stats.Rejected.Values.Sum()} requests");
    }

    [Fact]
    public async Task TwoServicesHttpClients_UseRedis_ShareOneBudget_AndTheUpstreamRefusesNothing()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var mock = await MockServer.StartAsync(Mock()).WaitAsync(Bound);
        using var firstService = Service(redis.Configuration);
        using var secondService = Service(redis.Configuration);

        var statuses = await Task.WhenAll(
            SendAsync(Client(firstService, mock.BaseUrl), PerReplica),
            SendAsync(Client(secondService, mock.BaseUrl), PerReplica)).WaitAsync(Bound);

        Assert.All(statuses.SelectMany(s => s), status => Assert.Equal(HttpStatusCode.OK, status));
        var stats = mock.GetStats();
        Assert.True(stats.Succeeded >= 2 * PerReplica, $"{stats.Succeeded} answered");
        Assert.True(stats.Rejected.Values.Sum() <= 8, $"the mock refused {stats.Rejected.Values.Sum()} requests");
    }

    private static ServiceProvider Service(string redis)
    {
        var services = new ServiceCollection();
        services.AddHttpClient("openai")
            .AddSluice(options => options.DefaultLimits = new PartitionLimits { RequestsPerWindow = RequestsPerMinute, MaxConcurrency = 8 })
            .UseRedis(redis);
        return services.BuildServiceProvider();
    }

    private static HttpClient Client(ServiceProvider service, Uri mock)
    {
        var client = service.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        client.BaseAddress = mock;
        client.Timeout = Bound;
        return client;
    }

    private static async Task<HttpStatusCode[]> SendAsync(Uri baseUrl, int count)
    {
        using var client = new HttpClient { BaseAddress = baseUrl, Timeout = Bound };
        return await SendAsync(client, count);
    }

    private static async Task<HttpStatusCode[]> SendAsync(HttpClient client, int count)
    {
        var sends = Enumerable.Range(0, count).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = $"hello {i}" } }, max_tokens = 5 }),
            };
            request.Headers.Authorization = new("Bearer", "sk-test-shared");
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        });
        return await Task.WhenAll(sends);
    }
}
