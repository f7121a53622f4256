using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Sluice.Cache;

/// <summary>
/// The cache's one writer: a task that owns the writing connection and applies every change in transactions, taking
/// everything that queued while the last one committed (group commit), so that hundreds of concurrent stores cost a
/// few transactions and no caller holds a lock across I/O. After each transaction it evicts the least recently used
/// entries once the size cap is passed, and now and then deletes entries past their age.
/// </summary>
internal sealed class CacheWriter : IDisposable
{
    private const int MaxBatch = 256;
    private const int EvictChunk = 256;
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    private readonly SqliteConnection _connection;
    private readonly SqliteResponseCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<SqliteException> _onError;
    private readonly Action<long, long> _onTotals;
    private readonly Action<int> _onStored;
    private readonly Channel<WriteOp> _queue = Channel.CreateBounded<WriteOp>(new BoundedChannelOptions(4096) { SingleReader = true });
    private readonly List<WriteOp> _batch = new(MaxBatch);
    private readonly SqliteCommand _oldSize;
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _touch;
    private readonly SqliteCommand _delete;
    private readonly SqliteCommand _totals;
    private readonly SqliteCommand _oldest;
    private readonly SqliteCommand _evict;
    private readonly SqliteCommand _prune;
    private readonly Task _loop;
    private long _lastPrune = long.MinValue;

    public CacheWriter(SqliteConnection connection, SqliteResponseCacheOptions options, TimeProvider time, Action<SqliteException> onError, Action<long, long> onTotals, Action<int> onStored)
    {
        _connection = connection;
        _options = options;
        _time = time;
        _onError = onError;
        _onTotals = onTotals;
        _onStored = onStored;
        _oldSize = Command("SELECT size FROM answers WHERE key = $key", "$key");
        _upsert = Command(
            "INSERT OR REPLACE INTO answers (key, stored_at, last_used, size, checksum, entry) VALUES ($key, $stored_at, $last_used, $size, $checksum, $entry)",
            "$key", "$stored_at", "$last_used", "$size", "$checksum", "$entry");
        _touch = Command("UPDATE answers SET last_used = $last_used WHERE key = $key AND last_used < $last_used", "$key", "$last_used");
        _delete = Command("DELETE FROM answers WHERE key = $key AND checksum = $checksum RETURNING size", "$key", "$checksum");
        _totals = Command("UPDATE totals SET entries = entries + $entries, bytes = bytes + $bytes WHERE id = 1 RETURNING entries, bytes", "$entries", "$bytes");
        _oldest = Command("SELECT key, size FROM answers ORDER BY last_used, key LIMIT $limit", "$limit");
        _evict = Command("DELETE FROM answers WHERE key = $key", "$key");
        _prune = Command("DELETE FROM answers WHERE key IN (SELECT key FROM answers WHERE last_used < $before LIMIT $limit) RETURNING size", "$before", "$limit");
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues a store; completes once it is committed, or refused.</summary>
    public async ValueTask StoreAsync(byte[] key, long storedAt, long size, long checksum, byte[] entry, CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await _queue.Writer.WriteAsync(new WriteOp(WriteKind.Store, key, storedAt, size, checksum, entry, done), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return;
        }

        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Marks an entry used now; dropped when the queue is full (recency is a hint, a hit must stay cheap).</summary>
    public void TryTouch(byte[] key, long lastUsed) => _queue.Writer.TryWrite(new WriteOp(WriteKind.Touch, key, lastUsed, 0, 0, null, null));

    /// <summary>Deletes exactly the entry that was read (by its checksum), not one stored since.</summary>
    public void TryDelete(byte[] key, long checksum) => _queue.Writer.TryWrite(new WriteOp(WriteKind.Delete, key, 0, 0, checksum, null, null));

    /// <summary>Lets the queue drain and waits (bounded) for the writer to finish.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _loop.Wait(TimeSpan.FromSeconds(30));
        foreach (var command in new[] { _oldSize, _upsert, _touch, _delete, _totals, _oldest, _evict, _prune })
        {
            command.Dispose();
        }

        _connection.Dispose();
    }

    private SqliteCommand Command(string sql, params string[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        foreach (string name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _batch.Clear();
            while (_batch.Count < MaxBatch && reader.TryRead(out var op))
            {
                _batch.Add(op);
            }

            try
            {
                // Counted before the stores' callers hear they are done, so statistics read after a store include it.
                _onStored(Apply(_batch));
                MaybePrune();
            }
            catch (SqliteException exception)
            {
                _onError(exception);
            }
            finally
            {
                foreach (var op in _batch)
                {
                    op.Done?.TrySetResult();
                }
            }
        }
    }

    /// <summary>Applies a batch in one transaction, then evicts past the size cap; returns the stores committed.</summary>
    private int Apply(List<WriteOp> batch)
    {
        long entries = 0;
        long bytes = 0;
        int stored = 0;
        using (var transaction = _connection.BeginTransaction())
        {
            foreach (var op in batch)
            {
                switch (op.Kind)
                {
                    case WriteKind.Store:
                        var old = Run(_oldSize, transaction, op.Key).ExecuteScalar();
                        entries += old is null ? 1 : 0;
                        bytes += op.Size - (old is long oldSize ? oldSize : 0);
                        Run(_upsert, transaction, op.Key, op.Time, op.Time / 1000, op.Size, op.Checksum, op.Entry!).ExecuteNonQuery();
                        stored++;
                        break;
                    case WriteKind.Touch:
                        Run(_touch, transaction, op.Key, op.Time).ExecuteNonQuery();
                        break;
                    default:
                        if (Run(_delete, transaction, op.Key, op.Checksum).ExecuteScalar() is long deleted)
                        {
                            entries--;
                            bytes -= deleted;
                        }

                        break;
                }
            }

            var totals = UpdateTotals(transaction, entries, bytes);
            if (totals.Bytes > _options.MaxBytes)
            {
                totals = Evict(transaction, totals);
            }

            transaction.Commit();
            _onTotals(totals.Entries, totals.Bytes);
        }

        return stored;
    }

    /// <summary>Deletes the least recently used entries until they take at most 90% of the cap.</summary>
    private (long Entries, long Bytes) Evict(SqliteTransaction transaction, (long Entries, long Bytes) totals)
    {
        long target = _options.MaxBytes / 10 * 9;
        var victims = new List<byte[]>();
        while (totals.Bytes > target && totals.Entries > 0)
        {
            // The oldest first, only as many as bring the total under the target.
            victims.Clear();
            long freed = 0;
            using (var oldest = Run(_oldest, transaction, (long)EvictChunk).ExecuteReader())
            {
                while (totals.Bytes - freed > target && oldest.Read())
                {
                    victims.Add(oldest.GetFieldValue<byte[]>(0));
                    freed += oldest.GetInt64(1);
                }
            }

            if (victims.Count == 0)
            {
                break;
            }

            foreach (byte[] key in victims)
            {
                Run(_evict, transaction, key).ExecuteNonQuery();
            }

            totals = UpdateTotals(transaction, -victims.Count, -freed);
        }

        Debug.Assert(totals.Bytes <= target || totals.Entries == 0, "eviction stops only under the target or when empty");
        return totals;
    }

    /// <summary>Deletes entries not used since before the age limit, hourly by the cache's clock (and at start).</summary>
    private void MaybePrune()
    {
        long now = _time.GetTimestamp();
        if (_lastPrune != long.MinValue && _time.GetElapsedTime(_lastPrune, now) < PruneEvery)
        {
            return;
        }

        _lastPrune = now;
        // An entry used since the cutoff may still be older than the limit: it is a miss when read, and deleted then.
        long before = (_time.GetUtcNow() - _options.MaxAge).ToUnixTimeSeconds();
        while (true)
        {
            using var transaction = _connection.BeginTransaction();
            var (count, freed) = DeleteSizes(Run(_prune, transaction, before, 1024L));
            var totals = UpdateTotals(transaction, -count, -freed);
            transaction.Commit();
            _onTotals(totals.Entries, totals.Bytes);
            if (count < 1024)
            {
                return;
            }
        }
    }

    private (long Entries, long Bytes) UpdateTotals(SqliteTransaction transaction, long entries, long bytes)
    {
        using var reader = Run(_totals, transaction, entries, bytes).ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    private static (long Count, long Bytes) DeleteSizes(SqliteCommand command)
    {
        long count = 0;
        long bytes = 0;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            count++;
            bytes += reader.GetInt64(0);
        }

        return (count, bytes);
    }

    private static SqliteCommand Run(SqliteCommand command, SqliteTransaction transaction, params object[] values)
    {
        command.Transaction = transaction;
        for (int i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        return command;
    }

    private enum WriteKind
    {
        Store,
        Touch,
        Delete,
    }

    private sealed record WriteOp(WriteKind Kind, byte[] Key, long Time, long Size, long Checksum, byte[]? Entry, TaskCompletionSource? Done);
}
