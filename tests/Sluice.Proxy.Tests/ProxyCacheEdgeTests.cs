using System.Collections.Concurrent;
using Sluice.Caching;

namespace Sluice.Proxy.Tests;

/// <summary>The cache header at the proxy's edge: never forwarded, and a hit never reaches the upstream, with any <see cref="ResponseCache"/>.</summary>
public sealed class ProxyCacheEdgeTests
{
    private const string Cold = """{"model":"gpt-4o-mini","temperature":0,"messages":[]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("sk-held-by-proxy-cache-edge")]
    public async Task CacheHeader_NeverReachesTheUpstream_HitNeverSent(string? heldKey)
    {
        using var cache = new MemoryCache();
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options => options.Cache = cache, apiKey: heldKey);

        var first = await host.PostAsync("/v1/chat/completions", Cold, "x-sluice-cache: use\r\nAuthorization: Bearer sk-client-own\r\n");
        var second = await host.PostAsync("/v1/chat/completions", Cold, "x-sluice-cache: use\r\nAuthorization: Bearer sk-client-own\r\n");

        Assert.Equal((200, "miss"), (first.Status, first.Headers["x-sluice-cache"]));
        Assert.Equal((200, "hit"), (second.Status, second.Headers["x-sluice-cache"]));
        Assert.Equal(first.Body, second.Body);
        var arrival = Assert.Single(host.Arrivals);
        Assert.False(arrival.Headers.ContainsKey("x-sluice-cache"));
    }

    [Fact]
    public async Task BadCacheHeader_400_NothingSent()
    {
        using var cache = new MemoryCache();
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options => options.Cache = cache);

        var answer = await host.PostAsync("/v1/chat/completions", Cold, "x-sluice-cache: always\r\n");

        Assert.Equal(400, answer.Status);
        Assert.Equal("invalid_cache_header", answer.Headers["x-sluice-error"]);
        Assert.Empty(host.Arrivals);
    }

    /// <summary>A cache in a dictionary: the contract's simplest implementation.</summary>
    private sealed class MemoryCache : ResponseCache
    {
        private readonly ConcurrentDictionary<CacheKey, CachedAnswer> _answers = new();
        private long _hits;
        private long _misses;
        private long _stores;

        public override ResponseCacheStatistics Statistics => new() { Hits = _hits, Misses = _misses, Stores = _stores, Entries = _answers.Count };

        public override ValueTask<CachedAnswer?> TryGetAsync(CacheKey key, CancellationToken cancellationToken = default)
        {
            bool found = _answers.TryGetValue(key, out var answer);
            Interlocked.Increment(ref found ? ref _hits : ref _misses);
            return ValueTask.FromResult(answer);
        }

        public override ValueTask StoreAsync(CacheKey key, CachedAnswer answer, CancellationToken cancellationToken = default)
        {
            _answers[key] = answer;
            Interlocked.Increment(ref _stores);
            return ValueTask.CompletedTask;
        }
    }
}
