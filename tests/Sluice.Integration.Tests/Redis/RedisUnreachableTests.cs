using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Mock;
using Sluice.Redis.Http;

namespace Sluice.Integration.Tests.Redis;

/// <summary>
/// Redis never reachable and no budget configured (the budget is learned from the provider's headers, as with
/// <c>sluice run --mock</c>): the gate runs on its local share, which must pace like the in-process gate, not send
/// everything before it knows the budget.
/// </summary>
public sealed class RedisUnreachableTests
{
    private const int RequestsPerMinute = 600;
    private const int Requests = 60;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RedisUnreachable_BudgetLearnedFromHeaders_TheLocalShareDrawsFewRefusals()
    {
        // Two seconds of burst at the mock against the gate's one: room for requests bunched by a busy machine.
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = RequestsPerMinute, Burst = TimeSpan.FromSeconds(2) },
            ReplyTokens = 5,
        }).WaitAsync(Bound);

        var services = new ServiceCollection();
        services.AddHttpClient("openai")
            .AddSluice(options => options.DefaultLimits = new PartitionLimits { MaxConcurrency = 256, AdaptiveConcurrency = true })
            .UseRedis(ClosedPort());
        using var service = services.BuildServiceProvider();
        using var client = service.GetRequiredService<IHttpClientFactory>().CreateClient("openai");
        client.BaseAddress = mock.BaseUrl;
        client.Timeout = Bound;

        var sends = Enumerable.Range(0, Requests).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = $"hello {i}" } }, max_tokens = 5 }),
            };
            request.Headers.Authorization = new("Bearer", "sk-test-unreachable");
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(sends).WaitAsync(Bound);

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        var stats = mock.GetStats();
        long refused = stats.Rejected.Values.Sum();
        Assert.True(stats.Succeeded >= Requests, $"{stats.Succeeded} answered");

        // Sending everything before the first answer drew a refusal for most requests beyond the mock's burst.
        Assert.True(refused <= (Requests + refused) / 20, $"the mock refused {refused} of {Requests + refused} attempts");
    }

    /// <summary>A port nothing listens on: one the system just handed out and was given back.</summary>
    private static string ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }
}
