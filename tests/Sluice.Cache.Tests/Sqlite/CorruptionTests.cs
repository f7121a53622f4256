using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cache.Tests.Support;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Cache.Tests.Sqlite;

/// <summary>A damaged or foreign file is detected, said once and ignored; a damaged entry is a miss, dropped.</summary>
public sealed class CorruptionTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeLogger _logger = new();

    public void Dispose() => _folder.Dispose();

    private string CachePath => _folder.File("cache.db");

    private SqliteResponseCache Open() => SqliteResponseCache.Open(new SqliteResponseCacheOptions { Path = CachePath }, _logger, _time);

    [Fact]
    public async Task AFileOfGarbage_IsDetectedAtOpen_WithOneWarning_AndEveryCallMisses()
    {
        var garbage = new byte[64 * 1024];
        new Random(7).NextBytes(garbage);
        await File.WriteAllBytesAsync(CachePath, garbage);

        await AssertDisabledAsync();
        Assert.Equal(garbage, await File.ReadAllBytesAsync(CachePath));
    }

    [Fact]
    public async Task ARealCacheTruncatedMidPage_IsDetectedAtOpen_WithOneWarning_AndEveryCallMisses()
    {
        using (var cache = Open())
        {
            for (int i = 0; i < 600; i++)
            {
                await cache.StoreAsync(Answers.Key(i), Answers.Chat($"answer number {i}: {new string((char)('a' + (i % 26)), i % 300)}", _time.GetUtcNow())).AsTask().DefaultTimeout();
            }
        }

        long length = new FileInfo(CachePath).Length;
        Assert.True(length > 64 * 1024, $"the cache file is only {length} bytes");
        await using (var file = new FileStream(CachePath, FileMode.Open, FileAccess.Write))
        {
            file.SetLength((length / 2) + 1234);
        }

        await AssertDisabledAsync();
    }

    [Fact]
    public async Task AFileDamagedWhileInUse_IsDetectedAtRead_WithOneWarning_AndNothingThrows()
    {
        using var cache = Open();
        for (int i = 0; i < 600; i++)
        {
            await cache.StoreAsync(Answers.Key(i), Answers.Chat($"answer number {i}: {new string((char)('a' + (i % 26)), i % 300)}", _time.GetUtcNow())).AsTask().DefaultTimeout();
        }

        // Everything into the main file, then its middle third overwritten, as a failing disk would.
        using (var connection = new SqliteConnection($"Data Source={CachePath};Pooling=False"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        await using (var file = new FileStream(CachePath, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            var garbage = new byte[file.Length / 3];
            new Random(11).NextBytes(garbage);
            file.Position = file.Length / 3;
            await file.WriteAsync(garbage);
        }

        int hits = 0;
        for (int i = 0; i < 600; i++)
        {
            if (await cache.TryGetAsync(Answers.Key(i)).DefaultTimeout() is { } answer)
            {
                hits++;
                Assert.Equal(Answers.ChatJson($"answer number {i}: {new string((char)('a' + (i % 26)), i % 300)}"), System.Text.Encoding.UTF8.GetString(answer.Body.Span));
            }
        }

        await cache.StoreAsync(Answers.Key(1000), Answers.Chat("after", _time.GetUtcNow())).AsTask().DefaultTimeout();
        Assert.NotNull(cache.Statistics.DisabledReason);
        Assert.True(hits < 600, "no lookup met the damage");
        var warning = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Contains("cannot be used", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherProgramsDatabase_IsLeftUntouched_WithOneWarning()
    {
        using (var connection = new SqliteConnection($"Data Source={CachePath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE outcomes (custom_id TEXT PRIMARY KEY, output TEXT); INSERT INTO outcomes VALUES ('a', 'b');";
            command.ExecuteNonQuery();
        }

        byte[] before = SHA256.HashData(await File.ReadAllBytesAsync(CachePath));

        await AssertDisabledAsync();
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(CachePath)));
        Assert.Contains("another program", _logger.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACacheOfAnotherSchemaVersion_IsRefused()
    {
        using (var cache = Open())
        {
            await cache.StoreAsync(Answers.Key(1), Answers.Chat("a", _time.GetUtcNow())).AsTask().DefaultTimeout();
        }

        Execute("UPDATE meta SET value = '99' WHERE key = 'version'");

        await AssertDisabledAsync();
        Assert.Contains("version 99", _logger.LatestRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEntryWhoseBytesChanged_IsAMiss_DeletedWithOneWarning()
    {
        using (var cache = Open())
        {
            await cache.StoreAsync(Answers.Key(1), Answers.Chat("one", _time.GetUtcNow())).AsTask().DefaultTimeout();
            await cache.StoreAsync(Answers.Key(2), Answers.Chat("two", _time.GetUtcNow())).AsTask().DefaultTimeout();
        }

        // One bit flipped in the middle of the first entry's stored bytes, as a bad sector would.
        var key = new byte[32];
        Answers.Key(1).CopyTo(key);
        FlipABit(key);

        using (var reopened = Open())
        {
            Assert.Null(await reopened.TryGetAsync(Answers.Key(1)).DefaultTimeout());
            Assert.NotNull(await reopened.TryGetAsync(Answers.Key(2)).DefaultTimeout());
            // The delete is queued ahead of this store.
            await reopened.StoreAsync(Answers.Key(3), Answers.Chat("three", _time.GetUtcNow())).AsTask().DefaultTimeout();
            Assert.Null(await reopened.TryGetAsync(Answers.Key(1)).DefaultTimeout());
            Assert.Equal(2, reopened.Statistics.Entries);
            Assert.Null(reopened.Statistics.DisabledReason);
        }

        var warning = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("damaged entry", warning.Message, StringComparison.Ordinal);
        Assert.Contains(CachePath, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Answers.Key(1).Text, warning.Message, StringComparison.Ordinal);
    }

    private async Task AssertDisabledAsync()
    {
        using (var cache = Open())
        {
            Assert.NotNull(cache.Statistics.DisabledReason);
            for (int i = 0; i < 5; i++)
            {
                Assert.Null(await cache.TryGetAsync(Answers.Key(i)).DefaultTimeout());
                await cache.StoreAsync(Answers.Key(i), Answers.Chat("x", _time.GetUtcNow())).AsTask().DefaultTimeout();
                Assert.Null(await cache.TryGetAsync(Answers.Key(i)).DefaultTimeout());
            }

            Assert.Equal((0, 10, 0), (cache.Statistics.Hits, cache.Statistics.Misses, cache.Statistics.Stores));
        }

        var warning = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(CachePath, warning.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be used", warning.Message, StringComparison.Ordinal);
    }

    private void FlipABit(byte[] key)
    {
        using var connection = new SqliteConnection($"Data Source={CachePath};Pooling=False");
        connection.Open();
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT b.entry FROM answers AS a JOIN bodies AS b ON b.id = a.body WHERE a.key = $key";
        read.Parameters.AddWithValue("$key", key);
        var entry = (byte[])read.ExecuteScalar()!;
        entry[entry.Length / 2] ^= 0x10;
        using var write = connection.CreateCommand();
        write.CommandText = "UPDATE bodies SET entry = $entry WHERE id = (SELECT body FROM answers WHERE key = $key)";
        write.Parameters.AddWithValue("$key", key);
        write.Parameters.AddWithValue("$entry", entry);
        Assert.Equal(1, write.ExecuteNonQuery());
    }

    private void Execute(string sql, byte[]? key = null)
    {
        using var connection = new SqliteConnection($"Data Source={CachePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (key is not null)
        {
            command.Parameters.AddWithValue("$key", key);
        }

        command.ExecuteNonQuery();
    }
}
