using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Sluice.Mock.Tests.Support;

/// <summary>A mock on a real Kestrel socket (127.0.0.1, port 0) with an <see cref="HttpClient"/> pointed at it.</summary>
internal sealed class RunningMock : IAsyncDisposable
{
    public const string Key = "sk-test-key";

    private RunningMock(MockServer server, FakeTimeProvider? time)
    {
        Server = server;
        Time = time;
        Client = new HttpClient { BaseAddress = server.BaseUrl, Timeout = Bounded.Timeout };
    }

    public MockServer Server { get; }

    public HttpClient Client { get; }

    /// <summary>The mock's clock when the test froze it; null when the mock runs on real time.</summary>
    public FakeTimeProvider? Time { get; }

    /// <summary>Starts a mock on a frozen fake clock, so budgets refill only when the test advances time.</summary>
    public static Task<RunningMock> StartAsync(Action<MockOptions>? configure = null) => StartAsync(configure, fakeTime: true);

    public static Task<RunningMock> StartOnRealTimeAsync(Action<MockOptions>? configure = null) => StartAsync(configure, fakeTime: false);

    public static HttpRequestMessage Chat(string prompt = "Hello there", int? maxTokens = null, bool stream = false, bool includeUsage = false, string model = "gpt-4o-mini")
    {
        var body = new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new object[] { new { role = "user", content = prompt } },
        };
        if (maxTokens is int max)
        {
            body["max_tokens"] = max;
        }

        if (stream)
        {
            body["stream"] = true;
        }

        if (includeUsage)
        {
            body["stream_options"] = new { include_usage = true };
        }

        return Post("v1/chat/completions", body);
    }

    public static HttpRequestMessage Messages(string prompt = "Hello there", int maxTokens = 100, bool stream = false, string model = "claude-sonnet-4-5")
    {
        var request = Post("v1/messages", new
        {
            model,
            max_tokens = maxTokens,
            messages = new object[] { new { role = "user", content = prompt } },
            stream,
        });
        return request.WithAnthropicHeaders();
    }

    public static HttpRequestMessage Post(string path, object body) => Raw(path, JsonSerializer.Serialize(body));

    public static HttpRequestMessage Raw(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return request;
    }

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        using (request)
        {
            return await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).Within();
        }
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        var text = await Client.GetStringAsync(path).Within();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync().AsTask().WaitAsync(Bounded.Timeout);
    }

    private static async Task<RunningMock> StartAsync(Action<MockOptions>? configure, bool fakeTime)
    {
        var time = fakeTime ? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero)) : null;
        var options = new MockOptions();
        if (time is not null)
        {
            options.TimeProvider = time;
        }

        configure?.Invoke(options);
        var server = await MockServer.StartAsync(options).Within();
        return new RunningMock(server, time);
    }
}

internal static class AnthropicRequests
{
    /// <summary>Authenticates the way Anthropic clients do: <c>x-api-key</c> and <c>anthropic-version</c>.</summary>
    public static HttpRequestMessage WithAnthropicHeaders(this HttpRequestMessage request)
    {
        request.Headers.Authorization = null;
        request.Headers.Add("x-api-key", RunningMock.Key);
        request.Headers.Add("anthropic-version", "2023-06-01");
        return request;
    }
}
