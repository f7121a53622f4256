using System.Text;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cache.Tests.Support;
using Sluice.Caching;
using Sluice.Providers;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Cache.Tests.Sqlite;

/// <summary>The SQLite cache: round trips, age and size bounds, recency, and many callers at once.</summary>
public sealed class SqliteResponseCacheTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger _logger = new();

    public void Dispose() => _folder.Dispose();

    private SqliteResponseCache Open(long maxBytes = 1L << 30, TimeSpan? maxAge = null) => SqliteResponseCache.Open(
        new SqliteResponseCacheOptions { Path = _folder.File("cache.db"), MaxBytes = maxBytes, MaxAge = maxAge ?? TimeSpan.FromDays(30) },
        _logger,
        _time);

    [Fact]
    public async Task StoreThenGet_GivesBackEveryField()
    {
        using var cache = Open();
        var stored = Answers.Chat("A short summary.", _time.GetUtcNow(), cost: 0.000123m);

        await cache.StoreAsync(Answers.Key(1), stored).AsTask().DefaultTimeout();
        var found = await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout();

        Assert.NotNull(found);
        Assert.Equal(stored.StatusCode, found.StatusCode);
        Assert.Equal(stored.ContentType, found.ContentType);
        Assert.Equal(stored.Body.ToArray(), found.Body.ToArray());
        Assert.Equal(stored.Usage, found.Usage);
        Assert.Equal(stored.Cost, found.Cost);
        Assert.Equal(stored.StoredAt, found.StoredAt);
        Assert.False(found.IsStream);
        Assert.Null(await cache.TryGetAsync(Answers.Key(2)).DefaultTimeout());
        var statistics = cache.Statistics;
        Assert.Equal((1, 1, 1, 1), (statistics.Hits, statistics.Misses, statistics.Stores, statistics.Entries));
        Assert.True(statistics.Bytes > 0);
        Assert.Null(statistics.DisabledReason);
        Assert.Empty(_logger.Collector.GetSnapshot());
    }

    [Fact]
    public async Task AStream_WithNoUsageNoCostNoContentType_RoundTripsByteForByte()
    {
        using var cache = Open();
        byte[] events = Encoding.UTF8.GetBytes("data: {\"choices\":[{\"delta\":{\"content\":\"é\\u00e9\"}}]}\r\n\r\ndata: [DONE]\n\n");
        var stored = new CachedAnswer { StatusCode = 201, Body = events, IsStream = true, StoredAt = _time.GetUtcNow() };

        await cache.StoreAsync(Answers.Key(1), stored).AsTask().DefaultTimeout();
        var found = await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout();

        Assert.NotNull(found);
        Assert.True(found.IsStream);
        Assert.Equal(events, found.Body.ToArray());
        Assert.Equal((201, null, null, default(TokenUsage)), (found.StatusCode, found.ContentType, found.Cost, found.Usage));
    }

    [Fact]
    public async Task Entries_OutliveTheProcessThatStoredThem_AndAStoreReplacesAnEntry()
    {
        using (var first = Open())
        {
            await first.StoreAsync(Answers.Key(1), Answers.Chat("old", _time.GetUtcNow())).AsTask().DefaultTimeout();
            await first.StoreAsync(Answers.Key(1), Answers.Chat("new", _time.GetUtcNow())).AsTask().DefaultTimeout();
            Assert.Equal(1, first.Statistics.Entries);
        }

        using var second = Open();
        var found = await second.TryGetAsync(Answers.Key(1)).DefaultTimeout();

        Assert.Equal(Answers.ChatJson("new"), Encoding.UTF8.GetString(found!.Body.Span));
        Assert.Equal(1, second.Statistics.Entries);
    }

    [Fact]
    public async Task AnEntryPastMaxAge_IsAMiss_AndIsDeleted()
    {
        using var cache = Open(maxAge: TimeSpan.FromDays(7));
        await cache.StoreAsync(Answers.Key(1), Answers.Chat("a", _time.GetUtcNow())).AsTask().DefaultTimeout();

        _time.Advance(TimeSpan.FromDays(7) - TimeSpan.FromSeconds(1));
        Assert.NotNull(await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout());
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout());

        // The delete is queued before this store, so once the store is committed the entry is gone.
        await cache.StoreAsync(Answers.Key(2), Answers.Chat("b", _time.GetUtcNow())).AsTask().DefaultTimeout();
        Assert.Equal(1, cache.Statistics.Entries);
    }

    [Fact]
    public async Task OldEntries_ArePrunedHourly_EvenIfNeverReadAgain()
    {
        using var cache = Open(maxAge: TimeSpan.FromDays(1));
        for (int i = 0; i < 10; i++)
        {
            await cache.StoreAsync(Answers.Key(i), Answers.Chat("a", _time.GetUtcNow())).AsTask().DefaultTimeout();
        }

        _time.Advance(TimeSpan.FromDays(2));
        await cache.StoreAsync(Answers.Key(100), Answers.Chat("b", _time.GetUtcNow())).AsTask().DefaultTimeout();

        Assert.Equal(1, cache.Statistics.Entries);
    }

    [Fact]
    public async Task PastMaxBytes_TheLeastRecentlyUsedAreEvicted_DownTo90Percent()
    {
        long entrySize;
        using (var probe = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = _folder.File("probe.db") }))
        {
            await probe.StoreAsync(Answers.Key(0), Answers.Chat("entry 0", _time.GetUtcNow())).AsTask().DefaultTimeout();
            entrySize = probe.Statistics.Bytes;
        }

        long cap = entrySize * 25;
        using var cache = Open(maxBytes: cap);
        for (int i = 0; i < 20; i++)
        {
            await cache.StoreAsync(Answers.Key(i), Answers.Chat($"entry {i}", _time.GetUtcNow())).AsTask().DefaultTimeout();
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        // Entry 0 is used again before every store: it stays among the most recently used, and entry 1 is the least.
        for (int i = 20; i < 60; i++)
        {
            Assert.NotNull(await cache.TryGetAsync(Answers.Key(0)).DefaultTimeout());
            await cache.StoreAsync(Answers.Key(i), Answers.Chat($"entry {i}", _time.GetUtcNow())).AsTask().DefaultTimeout();
            _time.Advance(TimeSpan.FromMinutes(1));
            Assert.True(cache.Statistics.Bytes <= cap, $"{cache.Statistics.Bytes} bytes held after store {i}, over the cap of {cap}");
        }

        Assert.NotNull(await cache.TryGetAsync(Answers.Key(0)).DefaultTimeout());
        Assert.Null(await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout());
        Assert.NotNull(await cache.TryGetAsync(Answers.Key(59)).DefaultTimeout());
        Assert.InRange(cache.Statistics.Entries, 20, 25);
    }

    [Fact]
    public async Task ManyCallersAtOnce_EachGetsWhatWasStoredUnderItsKey()
    {
        using var cache = Open();
        const int Count = 400;
        await Parallel.ForEachAsync(Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
        {
            await cache.StoreAsync(Answers.Key(i), Answers.Chat($"answer {i}", _time.GetUtcNow()), token);
            var found = await cache.TryGetAsync(Answers.Key(i), token);
            Assert.Equal(Answers.ChatJson($"answer {i}"), Encoding.UTF8.GetString(found!.Body.Span));
            var other = await cache.TryGetAsync(Answers.Key((i * 7) % Count), token);
            if (other is not null)
            {
                Assert.Equal(Answers.ChatJson($"answer {(i * 7) % Count}"), Encoding.UTF8.GetString(other.Body.Span));
            }
        }).DefaultTimeout();

        var statistics = cache.Statistics;
        Assert.Equal(Count, statistics.Stores);
        Assert.Equal(Count, statistics.Entries);
        Assert.Equal(2 * Count, statistics.Hits + statistics.Misses);
    }

    [Fact]
    public async Task TwoCachesOnOneFile_SeeEachOthersEntries()
    {
        using var first = Open();
        using var second = Open();

        await first.StoreAsync(Answers.Key(1), Answers.Chat("one", _time.GetUtcNow())).AsTask().DefaultTimeout();
        await second.StoreAsync(Answers.Key(2), Answers.Chat("two", _time.GetUtcNow())).AsTask().DefaultTimeout();

        Assert.NotNull(await second.TryGetAsync(Answers.Key(1)).DefaultTimeout());
        Assert.NotNull(await first.TryGetAsync(Answers.Key(2)).DefaultTimeout());
        Assert.Equal(2, second.Statistics.Entries);
    }

    [Fact]
    public async Task AfterDispose_EveryCallIsAMiss_AndNothingThrows()
    {
        var cache = Open();
        cache.Dispose();

        Assert.Null(await cache.TryGetAsync(Answers.Key(1)).DefaultTimeout());
        await cache.StoreAsync(Answers.Key(1), Answers.Chat("a", _time.GetUtcNow())).AsTask().DefaultTimeout();
        cache.Dispose();
    }

    [Fact]
    public void Open_RefusesOptionsThatCannotWork()
    {
        Assert.Throws<ArgumentException>(() => SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = " " }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = _folder.File("a.db"), MaxBytes = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = _folder.File("a.db"), MaxAge = TimeSpan.Zero }));
    }

    [Fact]
    public async Task Open_MakesTheFolder()
    {
        string path = Path.Combine(_folder.Path, "a", "b", "cache.db");
        using var cache = SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = path });

        await cache.StoreAsync(Answers.Key(1), Answers.Chat("a", _time.GetUtcNow())).AsTask().DefaultTimeout();

        Assert.True(File.Exists(path));
        Assert.Null(cache.Statistics.DisabledReason);
    }
}
