using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Sluice.Cache;

/// <summary>
/// The cache's one writer: a task that owns the writing connection and applies every change in transactions, taking
/// everything that queued while the last one committed (group commit), so that hundreds of concurrent stores cost a
/// few transactions and no caller holds a lock across I/O. In the same transaction as the stores it evicts the least
/// recently used entries once the size cap is passed, and now and then it deletes entries past their age.
/// </summary>
internal sealed class CacheWriter : IDisposable
{
    private const int MaxBatch = 1024;
    private const int Chunk = 256;
    private static readonly TimeSpan PruneEvery = TimeSpan.FromHours(1);

    private readonly SqliteConnection _connection;
    private readonly SqliteResponseCacheOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<Exception> _onError;
    private readonly Action<long, long> _onTotals;
    private readonly Action<int> _onStored;
    private readonly Channel<WriteOp> _queue = Channel.CreateBounded<WriteOp>(new BoundedChannelOptions(4096) { SingleReader = true });
    private readonly List<WriteOp> _batch = new(MaxBatch);
    private readonly List<(byte[] Key, long Size, long Body)> _victims = new(Chunk);
    private readonly SqliteCommand _old;
    private readonly SqliteCommand _insertBody;
    private readonly SqliteCommand _upsert;
    private readonly SqliteCommand _touch;
    private readonly SqliteCommand _find;
    private readonly SqliteCommand _deleteKey;
    private readonly SqliteCommand _deleteBody;
    private readonly SqliteCommand _totals;
    private readonly SqliteCommand _oldest;
    private readonly SqliteCommand _unused;
    private readonly Task _loop;
    private long _lastPrune = long.MinValue;

    public CacheWriter(SqliteConnection connection, SqliteResponseCacheOptions options, TimeProvider time, Action<Exception> onError, Action<long, long> onTotals, Action<int> onStored)
    {
        _connection = connection;
        _options = options;
        _time = time;
        _onError = onError;
        _onTotals = onTotals;
        _onStored = onStored;
        _old = Command("SELECT size, body FROM answers WHERE key = $key", "$key");
        _insertBody = Command("INSERT INTO bodies (entry) VALUES ($entry) RETURNING id", "$entry");
        _upsert = Command(
            "INSERT OR REPLACE INTO answers (key, stored_at, last_used, size, checksum, body) VALUES ($key, $stored_at, $last_used, $size, $checksum, $body)",
            "$key", "$stored_at", "$last_used", "$size", "$checksum", "$body");
        _touch = Command("UPDATE answers SET last_used = $last_used WHERE key = $key AND last_used < $last_used", "$key", "$last_used");
        _find = Command("SELECT size, body FROM answers WHERE key = $key AND checksum = $checksum", "$key", "$checksum");
        _deleteKey = Command("DELETE FROM answers WHERE key = $key", "$key");
        _deleteBody = Command("DELETE FROM bodies WHERE id = $id", "$id");
        _totals = Command("UPDATE totals SET entries = entries + $entries, bytes = bytes + $bytes WHERE id = 1 RETURNING entries, bytes", "$entries", "$bytes");
        _oldest = Command("SELECT key, size, body FROM answers ORDER BY last_used, key LIMIT $limit", "$limit");
        _unused = Command("SELECT key, size, body FROM answers WHERE last_used < $before ORDER BY last_used LIMIT $limit", "$before", "$limit");
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
        foreach (var command in new[] { _old, _insertBody, _upsert, _touch, _find, _deleteKey, _deleteBody, _totals, _oldest, _unused })
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
#pragma warning disable CA1031 // The writer must outlive any fault: callers wait on it, and a cache never fails them.
            catch (Exception exception)
#pragma warning restore CA1031
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

    /// <summary>Applies a batch in one transaction, evicting past the size cap in it; returns the stores committed.</summary>
    private int Apply(List<WriteOp> batch)
    {
        long entries = 0;
        long bytes = 0;
        int stored = 0;
        using var transaction = _connection.BeginTransaction();
        foreach (var op in batch)
        {
            switch (op.Kind)
            {
                case WriteKind.Store:
                    if (Found(Run(_old, transaction, op.Key)) is { } old)
                    {
                        Run(_deleteBody, transaction, old.Body).ExecuteNonQuery();
                        entries--;
                        bytes -= old.Size;
                    }

                    long body = (long)Run(_insertBody, transaction, op.Entry!).ExecuteScalar()!;
                    Run(_upsert, transaction, op.Key, op.Time, op.Time / 1000, op.Size, op.Checksum, body).ExecuteNonQuery();
                    entries++;
                    bytes += op.Size;
                    stored++;
                    break;
                case WriteKind.Touch:
                    Run(_touch, transaction, op.Key, op.Time).ExecuteNonQuery();
                    break;
                default:
                    if (Found(Run(_find, transaction, op.Key, op.Checksum)) is { } found)
                    {
                        Delete(transaction, op.Key, found.Body);
                        entries--;
                        bytes -= found.Size;
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
        return stored;
    }

    /// <summary>Deletes the least recently used entries until they take at most 90% of the cap.</summary>
    private (long Entries, long Bytes) Evict(SqliteTransaction transaction, (long Entries, long Bytes) totals)
    {
        long target = _options.MaxBytes / 10 * 9;
        while (totals.Bytes > target && totals.Entries > 0)
        {
            // The oldest first, only as many as bring the total under the target.
            _victims.Clear();
            long freed = 0;
            using (var oldest = Run(_oldest, transaction, (long)Chunk).ExecuteReader())
            {
                while (totals.Bytes - freed > target && oldest.Read())
                {
                    _victims.Add((oldest.GetFieldValue<byte[]>(0), oldest.GetInt64(1), oldest.GetInt64(2)));
                    freed += oldest.GetInt64(1);
                }
            }

            if (_victims.Count == 0)
            {
                break;
            }

            totals = DeleteVictims(transaction);
        }

        Debug.Assert(totals.Bytes <= target || totals.Entries == 0, "eviction stops only under the target or when empty");
        return totals;
    }

    /// <summary>Deletes entries not used since before the age limit, hourly by the cache's clock (and at the first write).</summary>
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
        do
        {
            using var transaction = _connection.BeginTransaction();
            _victims.Clear();
            using (var unused = Run(_unused, transaction, before, (long)Chunk).ExecuteReader())
            {
                while (unused.Read())
                {
                    _victims.Add((unused.GetFieldValue<byte[]>(0), unused.GetInt64(1), unused.GetInt64(2)));
                }
            }

            var totals = DeleteVictims(transaction);
            transaction.Commit();
            _onTotals(totals.Entries, totals.Bytes);
        }
        while (_victims.Count == Chunk);
    }

    private (long Entries, long Bytes) DeleteVictims(SqliteTransaction transaction)
    {
        long freed = 0;
        foreach (var (key, size, body) in _victims)
        {
            Delete(transaction, key, body);
            freed += size;
        }

        return UpdateTotals(transaction, -_victims.Count, -freed);
    }

    private void Delete(SqliteTransaction transaction, byte[] key, long body)
    {
        Run(_deleteKey, transaction, key).ExecuteNonQuery();
        Run(_deleteBody, transaction, body).ExecuteNonQuery();
    }

    private (long Entries, long Bytes) UpdateTotals(SqliteTransaction transaction, long entries, long bytes)
    {
        using var reader = Run(_totals, transaction, entries, bytes).ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : (0, 0);
    }

    private static (long Size, long Body)? Found(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
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
