using System.Net;
using Microsoft.AspNetCore.Http.Features;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Proxy.Tests;

/// <summary>
/// What clients can make the proxy hold, and whom one client's answer can reach (issue 14, findings 1 and 4): models are
/// checked and their groups bounded, partitions are bounded, the requests held over all partitions are bounded, and a
/// rejection caused by one request is that request's alone. A scripted upstream on loopback stands for the provider.
/// </summary>
public sealed class ProxyBoundsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AClientsOwnRejectedHeader_IsAnsweredToThatClientAlone_WhenClientsKeysPassThrough()
    {
        // The upstream rejects one organisation; both clients share a key, so they share a partition.
        await using var upstream = await Upstream.StartAsync(http => http.Request.Headers["OpenAI-Organization"] == "org-not-mine"
            ? Upstream.Json(http, 401, """{"error":{"message":"You are not a member of organization org-not-mine","type":"invalid_request_error","code":"invalid_organization"}}""")
            : Upstream.Json(http, 200, Completion));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => { });
        using var client = Client(app);

        using var mischief = Chat("gpt-4o-mini", key: "sk-shared-team-key");
        mischief.Headers.Add("OpenAI-Organization", "org-not-mine");
        using var rejected = await client.SendAsync(mischief).WaitAsync(Bound);
        using var other = await client.SendAsync(Chat("gpt-4o-mini", key: "sk-shared-team-key")).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(2, upstream.Seen);
        Assert.All(Engine(app).Gate.Partitions, p => Assert.Null(p.GetSnapshot().StopReason));
    }

    [Fact]
    public async Task AForbiddenPath_IsAnsweredToThatClientAlone_WhenTheProxyHoldsTheKey()
    {
        await using var upstream = await Upstream.StartAsync(http => http.Request.Path.StartsWithSegments("/v1/organization")
            ? Upstream.Json(http, 403, """{"error":{"message":"This key may not manage the organization","type":"invalid_request_error","code":"forbidden"}}""")
            : Upstream.Json(http, 200, """{"object":"list","data":[]}"""));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => { }, apiKey: "sk-proxy-key");
        using var client = Client(app);

        using var forbidden = await client.GetAsync("/v1/organization/users").WaitAsync(Bound);
        using var models = await client.GetAsync("/v1/models").WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.OK, models.StatusCode);
        Assert.Equal(2, upstream.Seen);
    }

    [Fact]
    public async Task TheProxysOwnKeyRejected_StopsThePartition_AndEveryClientGetsTheAnswerWithoutAnotherTry()
    {
        await using var upstream = await Upstream.StartAsync(http => Upstream.Json(http, 401, """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"""));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => { }, apiKey: "sk-revoked");
        using var client = Client(app);

        using var first = await client.SendAsync(Chat("gpt-4o-mini")).WaitAsync(Bound);
        using var second = await client.SendAsync(Chat("gpt-4o-mini")).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal(1, upstream.Seen);
    }

    [Theory]
    [InlineData(100_000)]
    [InlineData(129)]
    public async Task ALongModelName_IsRefused_AndNeverNamesAPartition(int length)
    {
        await using var upstream = await Upstream.StartAsync(http => Upstream.Json(http, 200, Completion));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => { });
        using var client = Client(app);

        using var answer = await client.SendAsync(Chat(new string('m', length))).WaitAsync(Bound);
        string status = await client.GetStringAsync("/sluice/status").WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal("invalid_model", answer.Headers.GetValues("x-sluice-error").Single());
        Assert.Equal(0, upstream.Seen);
        Assert.Empty(Engine(app).Gate.Partitions);
        Assert.True(status.Length < 1_000, $"status is {status.Length} characters");
    }

    [Theory]
    [InlineData("gpt 4o")]
    [InlineData("gpt-4o\u0000")]
    [InlineData("a|key:forged|b")]
    [InlineData("résumé")]
    [InlineData("")]
    public async Task AModelNameOutsideTheSafeSet_IsRefused(string model)
    {
        await using var upstream = await Upstream.StartAsync(http => Upstream.Json(http, 200, Completion));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => { });
        using var client = Client(app);

        using var answer = await client.SendAsync(Chat(model)).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Equal(0, upstream.Seen);
    }

    [Theory]
    [InlineData("gpt-4o-mini")]
    [InlineData("ft:gpt-4o-mini-2024-07-18:my-org:custom:abc123")]
    [InlineData("meta-llama/Llama-3.3-70B-Instruct")]
    [InlineData("llama3.2:3b")]
    [InlineData("claude-3-5-sonnet@20240620")]
    public void RealModelNames_AreValid(string model) => Assert.True(ProxyLimits.IsValidModel(model));

    [Fact]
    public async Task UnlistedModels_BeyondMaxModels_ShareOneGroup_AndListedOnesKeepTheirOwn()
    {
        await using var upstream = await Upstream.StartAsync(http => Upstream.Json(http, 200, Completion));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => options.MaxModels = 2, models: [new ModelBudget("gpt-4o", RequestsPerMinute: 60)]);
        using var client = Client(app);

        foreach (string model in new[] { "model-1", "model-2", "model-3", "model-4", "gpt-4o", "model-1" })
        {
            using var answer = await client.SendAsync(Chat(model)).WaitAsync(Bound);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Equal(
            ["mock|key:none|(unlisted)", "mock|key:none|gpt-4o", "mock|key:none|model-1", "mock|key:none|model-2"],
            Engine(app).Gate.Partitions.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(6, upstream.Seen);
    }

    [Fact]
    public async Task ManyClientKeys_PastMaxPartitions_Get503_AndStatusStaysBounded()
    {
        await using var upstream = await Upstream.StartAsync(http => Upstream.Json(http, 200, Completion));
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => options.MaxPartitions = 5);
        using var client = Client(app);
        int status503 = 0;

        for (int i = 0; i < 40; i++)
        {
            using var answer = await client.SendAsync(Chat("gpt-4o-mini", key: $"sk-random-{i}")).WaitAsync(Bound);
            if (answer.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                status503++;
                Assert.Equal("too_many_partitions", answer.Headers.GetValues("x-sluice-error").Single());
                Assert.NotNull(answer.Headers.RetryAfter);
            }
        }

        string status = await client.GetStringAsync("/sluice/status").WaitAsync(Bound);
        using var document = JsonDocument.Parse(status);
        Assert.Equal(35, status503);
        Assert.Equal(5, upstream.Seen);
        Assert.Equal(5, document.RootElement.GetProperty("upstreams")[0].GetProperty("partitions").GetArrayLength());
        Assert.True(status.Length < 5 * 600, $"status is {status.Length} characters");
    }

    [Fact]
    public async Task RequestsHeldOverEveryPartition_PastMaxQueueTotal_Get503AtOnce()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await Upstream.StartAsync(async http =>
        {
            await release.Task.WaitAsync(Bound);
            await Upstream.Json(http, 200, Completion);
        });
        await using var app = await StartProxyAsync(upstream.BaseUrl, options => options.MaxQueueTotal = 3);
        using var client = Client(app);

        // Three requests in three partitions (three models): each partition's own queue is far from full.
        var held = new[] { "model-a", "model-b", "model-c" }.Select(model => client.SendAsync(Chat(model))).ToList();
        Assert.True(await EventuallyAsync(() => upstream.Seen == 3));
        using var turnedAway = await client.SendAsync(Chat("model-d")).WaitAsync(Bound);
        release.SetResult();
        var answers = await Task.WhenAll(held).WaitAsync(Bound);
        using var afterwards = await client.SendAsync(Chat("model-d")).WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, turnedAway.StatusCode);
        Assert.Equal("proxy_full", turnedAway.Headers.GetValues("x-sluice-error").Single());
        Assert.NotNull(turnedAway.Headers.RetryAfter);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(HttpStatusCode.OK, afterwards.StatusCode);
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task InvalidBounds_FailTheProxyAtStart()
    {
        var options = new SluiceProxyOptions { MaxQueueTotal = 0, MaxPartitions = 0, MaxModels = -1, PartitionIdleTimeout = TimeSpan.Zero };
        options.Upstreams.Add(new ProxyUpstream { Name = "a", Url = new Uri("http://127.0.0.1:1") });

        var result = new SluiceProxyOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("MaxQueueTotal", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("PartitionIdleTimeout", StringComparison.Ordinal));
        await Task.CompletedTask;
    }

    private const string Completion = """{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}""";

    private static HttpRequestMessage Chat(string model, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model, messages = new[] { new { role = "user", content = "hi" } } }), Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new("Bearer", key);
        }

        return request;
    }

    private static HttpClient Client(WebApplication app) => new()
    {
        BaseAddress = new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First()),
        Timeout = Bound,
    };

    private static Sluice.Engine.SluiceEngine Engine(WebApplication app) => app.Services.GetRequiredService<SluiceProxy>().GetEngine("mock");

    private static async Task<WebApplication> StartProxyAsync(Uri upstream, Action<SluiceProxyOptions> configure, string? apiKey = null, IReadOnlyList<ModelBudget>? models = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSluiceProxy(options =>
        {
            options.Upstreams.Add(new ProxyUpstream { Name = "mock", Url = upstream, ApiKey = apiKey, RequestsPerMinute = 60_000, IsDefault = true, Models = models ?? [] });
            configure(options);
        });
        var app = builder.Build();
        app.MapSluiceProxy();
        await app.StartAsync().WaitAsync(Bound);
        return app;
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(30))
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10));
        }

        return true;
    }

    /// <summary>A scripted upstream on a loopback port the OS picks, counting what it was sent.</summary>
    private sealed class Upstream : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _seen;

        private Upstream(WebApplication app) => _app = app;

        public Uri BaseUrl => new(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

        public int Seen => Volatile.Read(ref _seen);

        public static async Task<Upstream> StartAsync(Func<HttpContext, Task> answer)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            var upstream = new Upstream(app);
            app.Run(http =>
            {
                Interlocked.Increment(ref upstream._seen);
                return answer(http);
            });
            await app.StartAsync().WaitAsync(Bound);
            return upstream;
        }

        public static Task Json(HttpContext http, int status, string json)
        {
            http.Response.StatusCode = status;
            http.Response.ContentType = "application/json";
            return http.Response.WriteAsync(json);
        }

        public ValueTask DisposeAsync() => _app.DisposeAsync();
    }
}
