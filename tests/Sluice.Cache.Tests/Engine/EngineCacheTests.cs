using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cache.Tests.Support;
using Sluice.Caching;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Tests.Dispatch.Support;
using Sluice.Tests.Engine;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Cache.Tests.Engine;

/// <summary>The engine with a cache: hits answered without sending, misses stored only when complete and valid.</summary>
public sealed class EngineCacheTests : IDisposable
{
    private const string Deterministic = """{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""";
    private const string Streamed = """{"model":"gpt-4o-mini","temperature":0,"stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":500}""";
    private const string Events =
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
        "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour \u00e9t\u00e9\"}}]}\r\n\r\n" +
        ": a comment the provider sent\n\n" +
        "data: {\"id\":\"c1\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n" +
        "data: [DONE]\n\n";

    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly SqliteResponseCache _cache;

    public EngineCacheTests()
    {
        _cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = _folder.File("cache.db") }, timeProvider: _time);
    }

    public void Dispose()
    {
        _cache.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task ABufferedAnswer_IsStored_AndTheSameRequestIsAnsweredFromTheCache_WithoutSending()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion(11, 5));
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        using var first = await engine.SendAsync(await engine.CaptureAsync(Post(Deterministic)), options).DefaultTimeout().ContinueWith(t => t.Result.Message!);
        string firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal("miss", Assert.Single(first.Headers.GetValues("x-sluice-cache")));

        // The same question written another way: other key order, spacing, and a user field.
        var again = await engine.SendAsync(await engine.CaptureAsync(Post("""{ "max_tokens": 16, "messages": [{"content":"hello","role":"user"}], "model": "gpt-4o-mini", "temperature": 0, "user": "bob" }""")), options).DefaultTimeout();

        Assert.True(again.FromCache);
        Assert.True(again.IsSuccess);
        Assert.Equal((JobStatus.Succeeded, JobEndReason.None, 0), (again.Status, again.Reason, again.Attempts));
        Assert.Equal(new Sluice.Providers.TokenUsage(16, 11, 5), again.Usage);
        using var message = again.Message!;
        Assert.Equal(HttpStatusCode.OK, message.StatusCode);
        Assert.Equal("hit", Assert.Single(message.Headers.GetValues("x-sluice-cache")));
        Assert.Equal("application/json", message.Content.Headers.ContentType?.MediaType);
        Assert.Equal(firstBody, await message.Content.ReadAsStringAsync());
        Assert.Equal(1, transport.Calls);
    }

    [Fact]
    public async Task AStream_IsStoredOnceReadToItsEnd_AndReplayedAsAStream_ByteForByte()
    {
        var transport = new ScriptedTransport((_, _) => EventStream(Events));
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), options).DefaultTimeout();
        byte[] received;
        using (var message = first.Message!)
        {
            Assert.Equal("miss", Assert.Single(message.Headers.GetValues("x-sluice-cache")));
            received = await ReadInSmallChunksAsync(message);
        }

        var second = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), options).DefaultTimeout();

        Assert.True(second.FromCache);
        using var replay = second.Message!;
        Assert.Equal("text/event-stream", replay.Content.Headers.ContentType?.MediaType);
        Assert.Equal("hit", Assert.Single(replay.Headers.GetValues("x-sluice-cache")));
        await using var stream = await replay.Content.ReadAsStreamAsync();
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        Assert.Equal(Encoding.UTF8.GetBytes(Events), received);
        Assert.Equal(received, copy.ToArray());
        Assert.Equal(new Sluice.Providers.TokenUsage(11, 9, 2), second.Usage);
        Assert.Equal(1, transport.Calls);
    }

    [Fact]
    public async Task AStreamLetGoBeforeItsEnd_IsNotStored()
    {
        var transport = new ScriptedTransport((_, _) => EventStream(Events));
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), options).DefaultTimeout();
        using (var message = first.Message!)
        {
            await using var body = await message.Content.ReadAsStreamAsync();
            _ = await body.ReadAsync(new byte[16]);
        }

        var second = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), options).DefaultTimeout();
        second.Message?.Dispose();

        Assert.False(second.FromCache);
        Assert.Equal(2, transport.Calls);
        Assert.Equal(0, _cache.Statistics.Stores);
    }

    [Fact]
    public async Task AStreamCutBeforeItsTerminator_IsNotStored()
    {
        var transport = new ScriptedTransport((_, _) => EventStream("data: {\"choices\":[{\"delta\":{\"content\":\"o\"}}]}\n\n"));
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), options).DefaultTimeout();
        using (var message = first.Message!)
        {
            await using var body = await message.Content.ReadAsStreamAsync();
            await Assert.ThrowsAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        }

        Assert.Equal(0, _cache.Statistics.Stores);
    }

    [Fact]
    public async Task AStreamLargerThanTheBound_IsPassedOnWhole_AndNotStored()
    {
        string big = string.Concat(Enumerable.Repeat("data: {\"choices\":[{\"delta\":{\"content\":\"" + new string('x', 1000) + "\"}}]}\n\n", 9000)) + "data: [DONE]\n\n";
        var transport = new ScriptedTransport((_, _) => EventStream(big));
        using var engine = Make(transport, _time);

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(Streamed)), new SluiceSendOptions { Cache = _cache }).DefaultTimeout();
        using (var message = first.Message!)
        {
            Assert.Equal(big.Length, (await message.Content.ReadAsByteArrayAsync()).Length);
        }

        Assert.Equal(0, _cache.Statistics.Stores);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "application/json", """{"error":{"message":"bad","type":"invalid_request_error"}}""")]
    [InlineData(HttpStatusCode.OK, "audio/mpeg", "ID3\u0003binary")]
    public async Task AFailureOrABodyThatIsNotJson_IsNotStored(HttpStatusCode status, string contentType, string body)
    {
        var transport = new ScriptedTransport((_, _) => new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, contentType) });
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        (await engine.SendAsync(await engine.CaptureAsync(Post(Deterministic)), options).DefaultTimeout()).Message?.Dispose();
        var second = await engine.SendAsync(await engine.CaptureAsync(Post(Deterministic)), options).DefaultTimeout();
        second.Message?.Dispose();

        Assert.False(second.FromCache);
        Assert.Equal(2, transport.Calls);
        Assert.Equal(0, _cache.Statistics.Stores);
    }

    [Fact]
    public async Task ACacheThatThrows_NeverFailsTheRequest()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, _time);
        using var broken = new ThrowingCache();

        var result = await engine.SendAsync(await engine.CaptureAsync(Post(Deterministic)), new SluiceSendOptions { Cache = broken }).DefaultTimeout();
        result.Message?.Dispose();

        Assert.True(result.IsSuccess);
        Assert.False(result.FromCache);
        Assert.Equal(1, transport.Calls);
    }

    [Fact]
    public async Task ABatchRunAgainWithOneLineChanged_SendsOneRequest()
    {
        var transport = new ScriptedTransport((request, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };

        var firstRun = await DrainAsync(engine.SendAllAsync(Batch(engine, changed: -1), maxInProgress: 8, options));
        Assert.All(firstRun, r => Assert.False(r.FromCache));
        Assert.Equal(50, transport.Calls);

        var secondRun = await DrainAsync(engine.SendAllAsync(Batch(engine, changed: 17), maxInProgress: 8, options));

        Assert.Equal(51, transport.Calls);
        Assert.Equal(50, secondRun.Count);
        Assert.All(secondRun, r => Assert.True(r.IsSuccess));
        Assert.Equal("post-17", Assert.Single(secondRun, r => !r.FromCache).Request.Id);
        Assert.Equal(50, secondRun.Select(r => r.Request.Id).Distinct().Count());
    }

    [Fact]
    public async Task ABatchWhoseCallerStopsEarly_LetsGoOfEverything()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, _time);
        var options = new SluiceSendOptions { Cache = _cache };
        await DrainAsync(engine.SendAllAsync(Batch(engine, changed: -1), maxInProgress: 4, options));

        int taken = 0;
        await foreach (var response in engine.SendAllAsync(Batch(engine, changed: -1), maxInProgress: 4, options).WithCancellation(CancellationToken.None))
        {
            response.Message?.Dispose();
            if (++taken == 3)
            {
                break;
            }
        }

        Assert.Equal(3, taken);
        Assert.Equal(50, transport.Calls);
    }

    private static async IAsyncEnumerable<SluiceRequest> Batch(SluiceEngine engine, int changed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (int i = 0; i < 50; i++)
        {
            string text = i == changed ? $"post {i}, rewritten" : $"post {i}";
            var message = Post($$"""{"model":"gpt-4o-mini","temperature":0,"messages":[{"role":"user","content":"Summarise {{text}}"}]}""");
            yield return engine.Capture(message, await message.Content!.ReadAsByteArrayAsync(cancellationToken), id: $"post-{i}");
        }
    }

    private static async Task<List<SluiceResponse>> DrainAsync(IAsyncEnumerable<SluiceResponse> responses)
    {
        var all = new List<SluiceResponse>();
        await foreach (var response in responses)
        {
            response.Message?.Dispose();
            all.Add(response);
        }

        return all;
    }

    private static async Task<byte[]> ReadInSmallChunksAsync(HttpResponseMessage message)
    {
        await using var body = await message.Content.ReadAsStreamAsync();
        using var copy = new MemoryStream();
        var buffer = new byte[7];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            copy.Write(buffer, 0, read);
        }

        return copy.ToArray();
    }

    private static HttpResponseMessage EventStream(string events)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(events))) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return response;
    }

    private sealed class ThrowingCache : ResponseCache
    {
        public override ResponseCacheStatistics Statistics => new();

        public override ValueTask<CachedAnswer?> TryGetAsync(CacheKey key, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("the cache is broken");

        public override ValueTask StoreAsync(CacheKey key, CachedAnswer answer, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("the cache is broken");
    }
}
