using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// Redis down is not an outage. When a call fails for want of Redis, every partition goes on with an in-process
/// partition holding 1/N of each budget and of the concurrency (N the members last seen alive), starting with its
/// buckets empty, so that what was admitted through Redis just before still counts. The heartbeat tries Redis again
/// (every second while down, and at once when the connection is restored); when it answers, each partition charges
/// the shared state with what it admitted alone and re-registers the slots it holds, and only then admits through
/// Redis again.
/// </summary>
internal sealed partial class SharedGate
{
    private static readonly TimeSpan ProbePeriod = TimeSpan.FromSeconds(1);

    private readonly object _modeLock = new();
    private GateMode _mode = GateMode.Local;
    private DateTimeOffset _since;
    private int _members = 1;
    private LocalEpisode? _local;
    private int _rejoining;

    /// <summary>Where admissions go now.</summary>
    internal GateMode Mode
    {
        get
        {
            lock (_modeLock)
            {
                return _mode;
            }
        }
    }

    /// <summary>The current local episode, while not shared.</summary>
    internal LocalEpisode? Episode
    {
        get
        {
            lock (_modeLock)
            {
                return _local;
            }
        }
    }

    internal RedisGateStatus Status
    {
        get
        {
            lock (_modeLock)
            {
                return new RedisGateStatus(_mode == GateMode.Shared, _members, _since);
            }
        }
    }

    /// <summary>Redis could not be reached: every partition goes on with its local share. Logged once per transition.</summary>
    internal void GoLocal(Exception error)
    {
        LocalEpisode episode;
        lock (_modeLock)
        {
            if (_mode != GateMode.Shared && _local is not null)
            {
                if (_mode == GateMode.Rejoining)
                {
                    _mode = GateMode.Local;
                }

                return;
            }

            _mode = GateMode.Local;
            _since = Clock.GetUtcNow();
            episode = new LocalEpisode(
                SluiceGate.Create(new GateOptions { MaxPartitions = Math.Max(1, _maxPartitions), PartitionIdleTimeout = Timeout.InfiniteTimeSpan }, Clock, LoggerFactory),
                _members,
                _since);
            _local?.Gate.Dispose();
            _local = episode;
        }

        RedisGateLog.WentLocal(Logger, Described, error.GetType().Name, episode.Members);
        if (IsDisposed)
        {
            return;
        }

        foreach (var partition in _partitions.Values)
        {
            partition.Kick(synchronous: false);
        }

        ScheduleHeartbeat();
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive && !IsDisposed)
        {
            GoLocal(e.Exception ?? new IOException(e.FailureType.ToString()));
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive && !IsDisposed)
        {
            _ = HeartbeatAsync();
        }
    }

    private void OnHeartbeat() => _ = HeartbeatAsync();

    private void ScheduleHeartbeat()
    {
        if (IsDisposed)
        {
            return;
        }

        TimeSpan period = LeaseTimeToLive / 3;
        if (Mode != GateMode.Shared && period > ProbePeriod)
        {
            period = ProbePeriod;
        }

        try
        {
            _heartbeat.Change(period, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile.
        }
    }

    /// <summary>Keeps this member and its slots alive; while on the local share, tries to rejoin.</summary>
    private async Task HeartbeatAsync()
    {
        if (IsDisposed)
        {
            return;
        }

        try
        {
            int members = Math.Max(1, (int)(long)await Database.ScriptEvaluateAsync(
                GateScripts.Members, [PartitionKeys.Members(Prefix)], [NowMs(), (long)LeaseTimeToLive.TotalMilliseconds, MemberId, "0"]).ConfigureAwait(false));
            lock (_modeLock)
            {
                _members = members;
            }

            if (Mode == GateMode.Shared)
            {
                foreach (var partition in _partitions.Values)
                {
                    await partition.RenewAsync(rejoining: false).ConfigureAwait(false);
                }
            }
            else
            {
                await RejoinAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            GoLocal(e);
        }
        finally
        {
            ScheduleHeartbeat();
        }
    }

    /// <summary>Charges Redis with what each partition admitted alone, then shares again.</summary>
    private async Task RejoinAsync()
    {
        if (Interlocked.Exchange(ref _rejoining, 1) != 0)
        {
            return;
        }

        try
        {
            LocalEpisode? episode;
            lock (_modeLock)
            {
                if (_mode != GateMode.Local)
                {
                    return;
                }

                _mode = GateMode.Rejoining;
                episode = _local;
            }

            try
            {
                foreach (var partition in _partitions.Values)
                {
                    await partition.RejoinAsync(episode).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                RedisGateLog.RejoinFailed(Logger, Described, e.GetType().Name);
                lock (_modeLock)
                {
                    _mode = GateMode.Local;
                }

                return;
            }

            int members;
            lock (_modeLock)
            {
                if (_mode != GateMode.Rejoining)
                {
                    return;
                }

                _mode = GateMode.Shared;
                _since = Clock.GetUtcNow();
                members = _members;
            }

            RedisGateLog.Rejoined(Logger, Described, members);
            foreach (var partition in _partitions.Values)
            {
                partition.Kick(synchronous: false);
            }
        }
        finally
        {
            Volatile.Write(ref _rejoining, 0);
        }
    }
}
