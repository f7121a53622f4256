using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;

namespace Sluice.Benchmarks;

/// <summary>
/// The whole pipeline every face pays per request — capture (the body read once: model, stream, token estimate),
/// partition key, gate, attempt, header reading, classification, usage settlement, answer ownership — around a
/// transport that answers at once from memory.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise this post in one line."}],"max_tokens":64}""");
    private static readonly byte[] Answer = Encoding.UTF8.GetBytes("""{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}""");

    private SluiceEngine _engine = null!;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new SluiceEngine(
            new SluiceHandlerOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1_000 } },
            new InstantTransport(),
            random: new Random(1));
        // The tokenizer loads once per process; the benchmark measures requests, not that.
        SendAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    [Benchmark]
    public async Task<HttpStatusCode> SendAsync()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "https://api.example.com/v1/chat/completions") { Content = new ByteArrayContent(Body) };
        message.Headers.TryAddWithoutValidation("Authorization", "Bearer sk-bench");
        var result = await _engine.SendAsync(_engine.Capture(message, Body));
        using var answer = result.Message!;
        return answer.StatusCode;
    }

    private sealed class InstantTransport : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Answer), RequestMessage = request };
            response.Content.Headers.ContentType = new("application/json");
            // Headers are read and fed to the gate as for a real answer, with a budget far above what the loop can use.
            response.Headers.TryAddWithoutValidation("x-ratelimit-limit-requests", "1000000000");
            response.Headers.TryAddWithoutValidation("x-ratelimit-remaining-requests", "999999999");
            response.Headers.TryAddWithoutValidation("x-ratelimit-reset-requests", "6ms");
            return Task.FromResult(response);
        }
    }
}
