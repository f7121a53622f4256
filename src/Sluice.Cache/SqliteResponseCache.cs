using System.Collections.Concurrent;
using System.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Caching;

namespace Sluice.Cache;

/// <summary>
/// A <see cref="ResponseCache"/> in one SQLite file, shared by every process that opens it: entries keyed by the
/// request's 32-byte hash in a <c>WITHOUT ROWID</c> table, each body Brotli-compressed with an XxHash3 checksum,
/// bounded by size (least recently used evicted first) and age. Lookups run on a small pool of reading connections
/// with prepared statements; changes go through one writer that commits them in groups, each store atomic.
/// </summary>
/// <remarks>
/// A file that is not SQLite, is another program's database, or fails its integrity check is left untouched and the
/// cache disabled, with one warning naming the file: every lookup misses, nothing is stored, nothing is thrown. A
/// damaged entry (its checksum does not match) is a miss, deleted, with one warning. Keys and bodies are never logged.
/// </remarks>
public sealed class SqliteResponseCache : ResponseCache
{
    // A hit marks its entry used at most once a minute: recency for eviction, not a write per hit.
    private const long TouchEverySeconds = 60;
    private const int MaxIdleReaders = 8;

    // The largest body kept: SQLite's default limit for one value is 1 GB, and an answer that size is not an answer.
    private const int MaxEntryBytes = 64 << 20;

    // Counted against the size cap beside the stored blob: the key, the row's header and its index entry.
    private const long RowOverhead = 96;

    private readonly SqliteResponseCacheOptions _options;
    private readonly string _path;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentBag<CacheReader> _readers = [];
    private CacheWriter? _writer;
    private string? _disabledReason;
    private int _failureLogged;
    private long _hits;
    private long _misses;
    private long _stores;
    private long _entries;
    private long _bytes;
    private int _disposed;

    private SqliteResponseCache(SqliteResponseCacheOptions options, string path, ILogger logger, TimeProvider time)
    {
        _options = options;
        _path = path;
        _logger = logger;
        _time = time;
    }

    /// <inheritdoc />
    public override ResponseCacheStatistics Statistics => new()
    {
        Hits = Interlocked.Read(ref _hits),
        Misses = Interlocked.Read(ref _misses),
        Stores = Interlocked.Read(ref _stores),
        Entries = Interlocked.Read(ref _entries),
        Bytes = Interlocked.Read(ref _bytes),
        DisabledReason = Volatile.Read(ref _disabledReason),
    };

    /// <summary>
    /// Opens (or creates) a cache file. Never throws for the file's state: a foreign or damaged file, or one that
    /// cannot be opened, gives a disabled cache and one warning.
    /// </summary>
    /// <param name="options">The file, size cap and age limit; copied.</param>
    /// <param name="logger">Where the one warning about an unusable file or a damaged entry goes; nowhere when null.</param>
    /// <param name="timeProvider">The clock entries are aged by; <see cref="TimeProvider.System"/> when null.</param>
    /// <returns>The cache, working or disabled (<see cref="ResponseCacheStatistics.DisabledReason"/>).</returns>
    /// <exception cref="ArgumentException">The path is empty, or the cap or age is not positive.</exception>
    public static SqliteResponseCache Open(SqliteResponseCacheOptions options, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Path, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.MaxAge, TimeSpan.Zero, nameof(options));
        var copy = new SqliteResponseCacheOptions { Path = Path.GetFullPath(options.Path), MaxBytes = options.MaxBytes, MaxAge = options.MaxAge };
        var cache = new SqliteResponseCache(copy, copy.Path, logger ?? NullLogger.Instance, timeProvider ?? TimeProvider.System);
        cache.Start();
        return cache;
    }

    /// <inheritdoc />
    public override ValueTask<CachedAnswer?> TryGetAsync(CacheKey key, CancellationToken cancellationToken = default)
    {
        // Synchronous underneath: SQLite answers a point lookup in microseconds, far less than a thread hop would cost.
        var answer = Lookup(key);
        Interlocked.Increment(ref answer is null ? ref _misses : ref _hits);
        return ValueTask.FromResult(answer);
    }

    /// <inheritdoc />
    public override ValueTask StoreAsync(CacheKey key, CachedAnswer answer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (_writer is not { } writer || Volatile.Read(ref _disabledReason) is not null || Volatile.Read(ref _disposed) != 0)
        {
            return ValueTask.CompletedTask;
        }

        if (answer.ContentType?.Length > ushort.MaxValue / 4 || answer.Body.Length > MaxEntryBytes)
        {
            // Not worth keeping, and not the caller's failure: refused like any store the cache cannot take.
            return ValueTask.CompletedTask;
        }

        var (entry, checksum) = EntryCodec.Encode(answer);
        byte[] keyBytes = new byte[CacheKey.Length];
        key.CopyTo(keyBytes);
        return writer.StoreAsync(keyBytes, answer.StoredAt.ToUnixTimeMilliseconds(), entry.Length + RowOverhead, checksum, entry, cancellationToken);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer?.Dispose();
            while (_readers.TryTake(out var reader))
            {
                reader.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Start()
    {
        try
        {
            string? folder = Path.GetDirectoryName(_path);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            var connection = CacheFile.OpenWriter(_path);
            try
            {
                using (var command = connection.CreateCommand())
                {
                    command.CommandText = "SELECT entries, bytes FROM totals WHERE id = 1";
                    using var reader = command.ExecuteReader();
                    if (reader.Read())
                    {
                        _entries = reader.GetInt64(0);
                        _bytes = reader.GetInt64(1);
                    }
                }

                _writer = new CacheWriter(connection, _options, _time, OnWriteError, OnTotals, stored => Interlocked.Add(ref _stores, stored));
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }
        catch (CacheUnusableException exception)
        {
            Disable(exception.Message);
        }
        catch (SqliteException exception)
        {
            Disable(Describe(exception));
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            Disable(exception.Message);
        }
    }

    private CachedAnswer? Lookup(CacheKey key)
    {
        if (_writer is not { } writer || Volatile.Read(ref _disabledReason) is not null || Volatile.Read(ref _disposed) != 0)
        {
            return null;
        }

        CacheReader? reader = null;
        long storedAt;
        long lastUsed;
        long checksum;
        byte[] entry;
        try
        {
            reader = _readers.TryTake(out var idle) ? idle : new CacheReader(_path);
            key.CopyTo(reader.Key);
            using (var row = reader.Select.ExecuteReader(CommandBehavior.SingleRow))
            {
                if (!row.Read())
                {
                    Return(reader);
                    return null;
                }

                storedAt = row.GetInt64(0);
                lastUsed = row.GetInt64(1);
                checksum = row.GetInt64(2);
                entry = row.GetFieldValue<byte[]>(3);
            }

            Return(reader);
        }
        catch (SqliteException exception)
        {
            reader?.Dispose();
            OnReadError(exception);
            return null;
        }

        var now = _time.GetUtcNow();
        if (now - DateTimeOffset.FromUnixTimeMilliseconds(storedAt) > _options.MaxAge)
        {
            writer.TryDelete(Copy(key), checksum);
            return null;
        }

        if (!EntryCodec.TryDecode(entry, checksum, out var answer, out string? damage))
        {
            CacheLog.CorruptEntry(_logger, _path, damage!);
            writer.TryDelete(Copy(key), checksum);
            return null;
        }

        long nowSeconds = now.ToUnixTimeSeconds();
        if (nowSeconds - lastUsed >= TouchEverySeconds)
        {
            writer.TryTouch(Copy(key), nowSeconds);
        }

        return answer;
    }

    private void Return(CacheReader reader)
    {
        if (Volatile.Read(ref _disposed) == 0 && _readers.Count < MaxIdleReaders)
        {
            _readers.Add(reader);
            if (Volatile.Read(ref _disposed) == 0)
            {
                return;
            }

            // Disposed meanwhile: whatever is still in the bag is let go here.
            while (_readers.TryTake(out var left))
            {
                left.Dispose();
            }

            return;
        }

        reader.Dispose();
    }

    private static byte[] Copy(CacheKey key)
    {
        byte[] bytes = new byte[CacheKey.Length];
        key.CopyTo(bytes);
        return bytes;
    }

    private void OnTotals(long entries, long bytes)
    {
        Interlocked.Exchange(ref _entries, entries);
        Interlocked.Exchange(ref _bytes, bytes);
    }

    private void OnReadError(SqliteException exception)
    {
        if (CacheFile.IsDamage(exception))
        {
            Disable(Describe(exception));
        }
        else if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
        {
            CacheLog.Failed(_logger, _path, Describe(exception));
        }
    }

    private void OnWriteError(Exception exception)
    {
        if (exception is SqliteException sqlite)
        {
            OnReadError(sqlite);
        }
        else if (Interlocked.Exchange(ref _failureLogged, 1) == 0)
        {
            CacheLog.Failed(_logger, _path, exception.GetType().Name);
        }
    }

    /// <summary>Disables the cache for the rest of the process, saying so once.</summary>
    private void Disable(string reason)
    {
        if (Interlocked.CompareExchange(ref _disabledReason, reason, null) is null)
        {
            CacheLog.Disabled(_logger, _path, reason);
        }
    }

    // SQLite's own words for what went wrong; they name neither a key nor a body.
    private static string Describe(SqliteException exception) => exception.Message;
}
