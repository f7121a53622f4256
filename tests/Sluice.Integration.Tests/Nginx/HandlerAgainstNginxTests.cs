using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Integration.Tests.Support;

namespace Sluice.Integration.Tests.Nginx;

/// <summary><see cref="SluiceHandler"/> against nginx <c>limit_req</c>: bare 429s with nothing to say when to come back.</summary>
[Collection(Http.PacingMeasurements.Name)]
public sealed class HandlerAgainstNginxTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task HundredConcurrentCalls_ToldNothing_NoneLost()
    {
        await using var nginx = await NginxServer.StartAsync(
            new NginxSite(new NginxLimit(RequestsPerSecond: 20, Burst: 5, NoDelay: true), TimeSpan.FromMilliseconds(50))).WaitAsync(Bound);
        using var handler = new SluiceHandler(new SluiceHandlerOptions { DefaultLimits = new PartitionLimits() }, random: new Random(3))
        {
            InnerHandler = new SocketsHttpHandler(),
        };
        using var client = new HttpClient(handler) { BaseAddress = nginx.BaseUrl, Timeout = Bound };

        var responses = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => client.PostAsync(
            "v1/chat/completions",
            JsonContent.Create(new JsonObject
            {
                ["model"] = "gpt-4o-mini",
                ["max_tokens"] = 20,
                ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"post {i}" }),
            })))).WaitAsync(Bound);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var response in responses)
        {
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("A summary.", body["choices"]![0]!["message"]!["content"]!.GetValue<string>());
            response.Dispose();
        }

        // Every call ended once with nginx's 200; a busy machine may have hedged a slow one (its twin answered too).
        var statuses = await nginx.StatusCountsAsync(succeeded: 100);
        Assert.InRange(statuses.GetValueOrDefault(200), 100, 103);
        Assert.True(statuses.Keys.All(s => s is 200 or 429), string.Join(", ", statuses.Select(s => $"{s.Key}: {s.Value}")));
    }
}
