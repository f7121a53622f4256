using System.Collections.Concurrent;
using System.Globalization;
using Sluice.Redis.Connection;
using StackExchange.Redis;

namespace Sluice.Redis.Batch;

/// <summary>
/// One batch of lines shared by workers on any number of machines through Redis Streams with a consumer group: the
/// first worker loads the lines (<see cref="LoadAsync"/>), every worker takes lines (<see cref="TakeAsync"/>,
/// <c>XREADGROUP</c>, and <c>XAUTOCLAIM</c> of a dead worker's lines), records each result once
/// (<see cref="RecordAsync"/>: <c>HSETNX</c> by id and <c>XACK</c> in one script), and any process reads the results
/// in the batch's order (<see cref="ReadResultsAsync"/>). While a worker is alive it renews the lines it holds, so
/// only a dead worker's lines are taken over.
/// </summary>
/// <remarks>
/// A line is sent at least once and recorded exactly once: a worker killed after its request was answered but before
/// the result was recorded leaves the line to be sent again by another. Keys live under
/// <c>PREFIX:batch:{NAME}:</c> and expire <see cref="RedisBatchOptions.KeepFor"/> after their last use. One worker
/// calls <see cref="TakeAsync"/> once at a time; recording and reading progress may overlap it.
/// </remarks>
public sealed partial class RedisBatch : IAsyncDisposable
{
    /// <summary>The most lines one <see cref="TakeAsync"/> hands out.</summary>
    public const int MaxTake = 1_000;

    private readonly RedisBatchOptions _options;
    private readonly ConnectionMultiplexer _connection;
    private readonly IDatabase _db;
    private readonly RedisBatchKeys _keys;
    private readonly TimeProvider _time;
    private readonly string _worker;

    // The lines this worker took and has not recorded or given back: renewed while held. Bounded by what the caller
    // takes (it takes more only as it finishes lines).
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewing;
    private RedisValue _claimCursor = "0-0";
    private int _disposed;

    private RedisBatch(RedisBatchOptions options, ConnectionMultiplexer connection, TimeProvider time)
    {
        _options = options;
        _connection = connection;
        _db = connection.GetDatabase();
        _keys = new RedisBatchKeys(options.KeyPrefix, options.Name);
        _time = time;
        _worker = options.Worker!;
        _renewing = RenewLoopAsync(_stop.Token);
    }

    /// <summary>This worker's name in the batch's consumer group.</summary>
    public string Worker => _worker;

    /// <summary>The batch's name.</summary>
    public string Name => _options.Name;

    /// <summary>Where Redis is, fit to show (no password).</summary>
    public string Server => RedisConnection.Describe(_options.Configuration);

    /// <summary>Lines this worker holds now (taken, not yet recorded or given back).</summary>
    public int Held => _held.Count;

    /// <summary>
    /// Connects to Redis and checks that it answers within <see cref="RedisBatchOptions.OperationTimeout"/>.
    /// </summary>
    /// <param name="options">Where the batch is; copied and checked.</param>
    /// <param name="timeProvider">The clock for polling and renewals; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="cancellationToken">Stops connecting.</param>
    /// <returns>The batch, connected.</returns>
    /// <exception cref="ArgumentException">The options are not valid.</exception>
    /// <exception cref="RedisConnectionException">Redis did not answer; the message names the host, never a password.</exception>
    public static async Task<RedisBatch> ConnectAsync(RedisBatchOptions options, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var checkedOptions = options.Validated();
        var configuration = RedisConnection.Parse(checkedOptions.Configuration);
        int timeout = (int)Math.Ceiling(checkedOptions.OperationTimeout.TotalMilliseconds);
        configuration.AsyncTimeout = timeout;
        configuration.SyncTimeout = timeout;
        configuration.ConnectTimeout = timeout;
        configuration.ClientName = "sluice-batch";
        string where = RedisConnection.Describe(checkedOptions.Configuration);
        ConnectionMultiplexer connection;
        try
        {
            connection = await ConnectionMultiplexer.ConnectAsync(configuration).WaitAsync(checkedOptions.OperationTimeout * 2, timeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"Redis at {where} cannot be reached", null, CommandStatus.Unknown);
        }

        try
        {
            await connection.GetDatabase().PingAsync().WaitAsync(checkedOptions.OperationTimeout, timeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            // Its message may quote the configuration, which may hold a password.
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"Redis at {where} does not answer", null, CommandStatus.Unknown);
        }

        return new RedisBatch(checkedOptions, connection, timeProvider ?? TimeProvider.System);
    }

    /// <summary>
    /// Takes up to <paramref name="maxCount"/> lines: new ones first, then lines whose worker stopped renewing them for
    /// <see cref="RedisBatchOptions.ClaimIdleTime"/>. When there are none, waits (polling every
    /// <see cref="RedisBatchOptions.PollInterval"/>) until there are or the batch is complete.
    /// </summary>
    /// <param name="maxCount">The most lines wanted, 1 to <see cref="MaxTake"/>.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The lines, now this worker's; empty only when the batch is complete.</returns>
    public async Task<IReadOnlyList<RedisBatchLine>> TakeAsync(int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxTake);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var fresh = await _db.StreamReadGroupAsync(_keys.Lines, RedisBatchKeys.Group, _worker, StreamPosition.NewMessages, maxCount).ConfigureAwait(false);
            if (fresh is { Length: > 0 })
            {
                return Hold(fresh);
            }

            // Nothing new: a dead worker's lines, idle past the claim time. The cursor walks the pending list across
            // calls, so a long list is covered a page at a time.
            var claimed = await _db.StreamAutoClaimAsync(_keys.Lines, RedisBatchKeys.Group, _worker, (long)_options.ClaimIdleTime.TotalMilliseconds, _claimCursor, maxCount).ConfigureAwait(false);
            _claimCursor = claimed.NextStartId;
            if (claimed.DeletedIds is { Length: > 0 } deleted)
            {
                await _db.StreamAcknowledgeAsync(_keys.Lines, RedisBatchKeys.Group, deleted).ConfigureAwait(false);
            }

            if (claimed.ClaimedEntries is { Length: > 0 } entries)
            {
                var open = await WithoutResultsAsync(entries).ConfigureAwait(false);
                if (open.Count > 0)
                {
                    return Hold(open);
                }

                continue;
            }

            if (_claimCursor != "0-0")
            {
                continue;
            }

            if ((await GetProgressAsync(cancellationToken).ConfigureAwait(false)).IsComplete)
            {
                return [];
            }

            await Task.Delay(_options.PollInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records <paramref name="line"/>'s result, unless one is recorded already, and marks the line done.
    /// </summary>
    /// <param name="line">A line this worker took.</param>
    /// <param name="result">The result to keep.</param>
    /// <param name="failed">Whether the result is a failure (counted apart).</param>
    /// <returns>True when this result is the one recorded; false when another worker recorded the line first.</returns>
    public async Task<bool> RecordAsync(RedisBatchLine line, string result, bool failed)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(result);
        var recorded = await _db.ScriptEvaluateAsync(
            RedisBatchScripts.Record,
            [_keys.Results, _keys.Meta, _keys.Lines],
            [line.Id, (failed ? "F" : "S") + result, failed ? "1" : "0", line.EntryId, Milliseconds(_options.KeepFor)]).ConfigureAwait(false);
        _held.TryRemove(line.EntryId, out _);
        return (long)recorded == 1;
    }

    /// <summary>Where the batch stands: its size once loaded, the results recorded, the failures among them.</summary>
    /// <param name="cancellationToken">Stops waiting for Redis.</param>
    /// <returns>The progress.</returns>
    public async Task<RedisBatchProgress> GetProgressAsync(CancellationToken cancellationToken = default)
    {
        var meta = _db.HashGetAsync(_keys.Meta, ["total", "failed"]);
        var recorded = _db.HashLengthAsync(_keys.Results);
        var values = await meta.WaitAsync(cancellationToken).ConfigureAwait(false);
        long count = await recorded.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new RedisBatchProgress(values[0].IsNull ? null : (long)values[0], count, values[1].IsNull ? 0 : (long)values[1]);
    }

    /// <summary>Gives back the lines this worker holds, so other workers take them at once (a graceful stop).</summary>
    /// <returns>A task that completes when Redis has them back.</returns>
    public async Task ReleaseAsync()
    {
        string[] held = [.. _held.Keys];
        _held.Clear();
        // An idle time far past any claim time: the next XAUTOCLAIM takes them.
        await RenewAsync(held, TimeSpan.FromDays(365)).ConfigureAwait(false);
    }

    /// <summary>Deletes every key of the batch: its lines, results and state.</summary>
    /// <returns>True when there was something to delete.</returns>
    public async Task<bool> DeleteAsync() => await _db.KeyDeleteAsync(_keys.All).ConfigureAwait(false) > 0;

    /// <summary>Stops renewing, gives back the lines still held, and closes the connection.</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
        try
        {
            await ReleaseAsync().ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Redis gone: the lines come back to the others after the claim time.
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Stops renewing without giving anything back, as a killed worker would: for tests.</summary>
    internal async Task AbandonAsync()
    {
        _held.Clear();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewing.ConfigureAwait(false);
    }

    /// <summary>Renews the lines this worker holds now; the renewal loop calls it every <see cref="RedisBatchOptions.RefreshInterval"/>.</summary>
    internal Task<long> RenewHeldAsync() => RenewAsync([.. _held.Keys], TimeSpan.Zero);

    private List<RedisBatchLine> Hold(StreamEntry[] entries)
    {
        var lines = new List<RedisBatchLine>(entries.Length);
        foreach (var entry in entries)
        {
            var line = LineOf(entry);
            _held[line.EntryId] = 0;
            lines.Add(line);
        }

        return lines;
    }

    private List<RedisBatchLine> Hold(List<StreamEntry> entries) => Hold(entries.ToArray());

    // Claimed lines whose result was recorded meanwhile (their first worker was slow, not dead) are acknowledged, not redone.
    private async Task<List<StreamEntry>> WithoutResultsAsync(StreamEntry[] entries)
    {
        var ids = entries.Select(e => e["id"]).ToArray();
        bool[] exists = await Task.WhenAll(ids.Select(id => _db.HashExistsAsync(_keys.Results, id))).ConfigureAwait(false);
        var open = new List<StreamEntry>(entries.Length);
        var done = new List<RedisValue>();
        for (int i = 0; i < entries.Length; i++)
        {
            if (exists[i])
            {
                done.Add(entries[i].Id);
            }
            else
            {
                open.Add(entries[i]);
            }
        }

        if (done.Count > 0)
        {
            await _db.StreamAcknowledgeAsync(_keys.Lines, RedisBatchKeys.Group, [.. done]).ConfigureAwait(false);
        }

        return open;
    }

    private async Task<long> RenewAsync(string[] entryIds, TimeSpan idle)
    {
        long renewed = 0;
        foreach (var chunk in entryIds.Chunk(200))
        {
            RedisValue[] arguments = [_worker, Milliseconds(idle), .. chunk.Select(id => (RedisValue)id)];
            renewed += (long)await _db.ScriptEvaluateAsync(RedisBatchScripts.Renew, [_keys.Lines], arguments).ConfigureAwait(false);
        }

        return renewed;
    }

    private async Task RenewLoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.RefreshInterval, _time, stop).ConfigureAwait(false);
                await RenewHeldAsync().ConfigureAwait(false);
                await KeepAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Redis away for a moment: the next tick tries again, well within the claim time.
            }
        }
    }

    // Every key's expiry pushed back while the batch is in use.
    private Task<bool[]> KeepAsync() => Task.WhenAll(_keys.All[..3].Select(key => _db.KeyExpireAsync(key, _options.KeepFor)));

    private static RedisBatchLine LineOf(StreamEntry entry) => new(
        entry.Id.ToString(),
        entry["id"].ToString(),
        int.TryParse(entry["n"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int number) ? number : 0,
        entry["p"].ToString());

    private static string Milliseconds(TimeSpan span) => ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
