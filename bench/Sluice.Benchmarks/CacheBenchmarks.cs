using BenchmarkDotNet.Attributes;
using Sluice.Cache;
using Sluice.Caching;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Providers;

namespace Sluice.Benchmarks;

/// <summary>
/// The response cache's own cost (issue 16): a hit as <c>sluice run</c> pays it — the request's key hashed from a
/// realistic 1–2 KB body, then the lookup of a ~1 KB answer in a SQLite cache of 100,000 entries, decompressed and
/// checked — a miss, and a store (many at once, as a run makes them, committed in groups).
/// </summary>
[MemoryDiagnoser]
public class CacheBenchmarks
{
    private const int Entries = 100_000;
    private const int Stores = 1_000;

    private string _directory = null!;
    private SqliteResponseCache _cache = null!;
    private byte[][] _requests = null!;
    private byte[] _unknown = null!;
    private CachedAnswer[] _answers = null!;
    private CacheKey[] _storeKeys = null!;
    private SluiceEngine _engine = null!;
    private SluiceRequest _cachedRequest = null!;
    private SluiceSendOptions _sendOptions = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("sluice-cache-bench").FullName;
        _cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = Path.Combine(_directory, "cache.db") });
        var now = TimeProvider.System.GetUtcNow();
        _requests = new byte[1024][];
        for (int batch = 0; batch < Entries; batch += 1000)
        {
            var stores = new Task[1000];
            for (int i = 0; i < 1000; i++)
            {
                stores[i] = _cache.StoreAsync(CacheWorkload.Key(batch + i), CacheWorkload.Answer(batch + i, now)).AsTask();
            }

            Task.WaitAll(stores);
        }

        var random = new Random(5);
        for (int i = 0; i < _requests.Length; i++)
        {
            _requests[i] = CacheWorkload.Request(random.Next(Entries));
        }

        _unknown = CacheWorkload.Request(Entries + 1);
        _answers = [.. Enumerable.Range(0, Stores).Select(i => CacheWorkload.Answer(Entries + 10 + i, now))];
        _storeKeys = [.. Enumerable.Range(0, Stores).Select(i => CacheWorkload.Key((2 * Entries) + i))];

        // An engine whose transport is never reached: every request sent through it is a hit.
        _engine = new SluiceEngine(new SluiceHandlerOptions(), new Unreachable());
        var message = new HttpRequestMessage(HttpMethod.Post, "https://api.openai.com/v1/chat/completions") { Content = new ByteArrayContent(_requests[0]) };
        message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        _cachedRequest = _engine.Capture(message, _requests[0], id: "post-1");
        _sendOptions = new SluiceSendOptions { Cache = _cache };
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        _cache.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Key a 1–2 KB request body (canonical JSON, SHA-256) and find its ~1 KB answer.</summary>
    [Benchmark]
    public async ValueTask<CachedAnswer?> Hit_KeyAndLookup()
    {
        byte[] body = _requests[_next++ & 1023];
        var answer = await _cache.TryGetAsync(CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", body));
        return answer ?? throw new InvalidOperationException("a hit was expected");
    }

    /// <summary>Key a request body only: the part of a hit that is not SQLite.</summary>
    [Benchmark]
    public CacheKey Key_Only() => CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", _requests[_next++ & 1023]);

    /// <summary>Key a request the cache does not hold and look it up.</summary>
    [Benchmark]
    public ValueTask<CachedAnswer?> Miss_KeyAndLookup() => _cache.TryGetAsync(CacheKey.For(ProviderKind.OpenAI, "/v1/chat/completions", _unknown));

    /// <summary>1,000 answers stored at once, as a run's misses end together; per store, committed.</summary>
    [Benchmark(OperationsPerInvoke = Stores)]
    public async Task Store_Concurrent()
    {
        var stores = new Task[Stores];
        for (int i = 0; i < Stores; i++)
        {
            stores[i] = _cache.StoreAsync(_storeKeys[i], _answers[i]).AsTask();
        }

        await Task.WhenAll(stores);
    }

    /// <summary>One answer stored and awaited alone: the latency of a commit.</summary>
    [Benchmark]
    public ValueTask Store_One() => _cache.StoreAsync(_storeKeys[_next++ % Stores], _answers[0]);

    /// <summary>A captured request sent through the engine and answered from the cache: key, lookup, the response built.</summary>
    [Benchmark]
    public async Task<bool> Engine_SendAsync_Hit()
    {
        var response = await _engine.SendAsync(_cachedRequest, _sendOptions);
        response.Message?.Dispose();
        return response.FromCache ? true : throw new InvalidOperationException("a hit was expected");
    }

    private sealed class Unreachable : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a cache hit must not send");
    }
}
