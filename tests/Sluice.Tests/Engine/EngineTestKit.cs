using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;

namespace Sluice.Tests.Engine;

/// <summary>An upstream in memory that answers each try by a script, recording every message it was sent.</summary>
internal sealed class ScriptedTransport(Func<HttpRequestMessage, int, HttpResponseMessage> answer) : HttpMessageHandler
{
    private int _calls;

    public ConcurrentQueue<(string Uri, string? Authorization, string Body)> Sent { get; } = new();

    public int Calls => Volatile.Read(ref _calls);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        string body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        Sent.Enqueue((request.RequestUri!.ToString(), request.Headers.Authorization?.ToString(), body));
        var response = answer(request, Interlocked.Increment(ref _calls));
        response.RequestMessage = request;
        return response;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage Completion(int promptTokens = 7, int completionTokens = 3) => Json(
        HttpStatusCode.OK,
        $$$"""{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":{{{promptTokens}}},"completion_tokens":{{{completionTokens}}},"total_tokens":{{{promptTokens + completionTokens}}}}}""");
}

internal static class EngineTestKit
{
    public const string Chat = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}],"max_tokens":16}""";

    public static SluiceEngine Make(HttpMessageHandler transport, FakeTimeProvider time, Action<SluiceHandlerOptions>? configure = null)
    {
        var options = new SluiceHandlerOptions
        {
            DefaultLimits = new PartitionLimits { MaxConcurrency = 4 },
            AdaptiveConcurrency = false,
            // No try is cut by a timeout: a test that drives the fake clock may move it past one while a try is in flight.
            Retry = new DispatcherOptions { MaxAttempts = 3, HedgeSlowAttempts = false, LearnAttemptTimeout = false, AttemptTimeout = null },
        };
        configure?.Invoke(options);
        return new SluiceEngine(options, transport, time, random: new Random(1));
    }

    public static HttpRequestMessage Post(string body = Chat, string url = "https://api.example.com/v1/chat/completions", string? key = "sk-test")
    {
        var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            message.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return message;
    }
}
