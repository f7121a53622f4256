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
    private int _pendingHeartbeats;

    private int _graceMembers = 1;
    private long _graceUntilMs;

    /// <summary>
    /// The part of every shared budget this process may use now: 1 normally; after a rejoin, the members back in Redis
    /// over the members there were before the outage, until all are back or a TTL has passed (the others may still be
    /// on their local share, spending 1/N each).
    /// </summary>
    internal double ShareFactor
    {
        get
        {
            lock (_modeLock)
            {
                if (_members >= _graceMembers || NowMs() >= _graceUntilMs)
                {
                    return 1;
                }

                return Math.Max(1, _members) / (double)_graceMembers;
            }
        }
    }

    /// <summary>The part of the members before the outage that are not back in Redis yet (0 when all are).</summary>
    internal double AbsentShare(LocalEpisode? episode)
    {
        lock (_modeLock)
        {
            int before = episode?.Members ?? 1;
            return before <= _members ? 0 : (before - _members) / (double)before;
        }
    }

    /// <summary>Heartbeats started and not yet finished (for tests that must let one reach Redis).</summary>
    internal int PendingHeartbeats => Volatile.Read(ref _pendingHeartbeats);

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
        if (IsDisposed)
        {
            // A call cut short by our own disposal says nothing about Redis.
            return;
        }

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

            // Since it left Redis; a gate that never reached Redis has been away since it was made.
            var now = Clock.GetUtcNow();
            if (_mode == GateMode.Shared)
            {
                _since = now;
            }

            _mode = GateMode.Local;
            episode = new LocalEpisode(
                SluiceGate.Create(new GateOptions { MaxPartitions = Math.Max(1, _maxPartitions), PartitionIdleTimeout = Timeout.InfiniteTimeSpan }, Clock, LoggerFactory),
                _members,
                now);
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
            partition.Kick();
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

        Interlocked.Increment(ref _pendingHeartbeats);
        try
        {
            bool shared = Mode == GateMode.Shared;
            await CountMembersAsync(register: shared).ConfigureAwait(false);
            if (shared)
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
            Interlocked.Decrement(ref _pendingHeartbeats);
        }
    }

    /// <summary>
    /// Heartbeat: registers this member as seen now (only while shared: a member on its local share counts as absent
    /// until it has rejoined) and reads how many are alive. When it is not yet registered, this member counts itself.
    /// </summary>
    private async Task CountMembersAsync(bool register)
    {
        long seen = (long)await Database.ScriptEvaluateAsync(
            GateScripts.Members, [PartitionKeys.Members(Prefix)], [NowMs(), (long)LeaseTimeToLive.TotalMilliseconds, MemberId, register ? "0" : "2"]).ConfigureAwait(false);
        int members = Math.Max(1, (int)seen + (register ? 0 : 1));
        lock (_modeLock)
        {
            _members = members;
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

                // Members not back yet may still be admitting on their local share: until they are (or a TTL has
                // passed and they count as gone), this process takes only its part of every budget through Redis.
                _graceMembers = episode?.Members ?? 1;
                _graceUntilMs = NowMs() + (long)LeaseTimeToLive.TotalMilliseconds;
            }

            try
            {
                await CountMembersAsync(register: true).ConfigureAwait(false);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                // Registered at the next heartbeat; counted as absent by the others meanwhile, which is only cautious.
            }

            RedisGateLog.Rejoined(Logger, Described, members);
            foreach (var partition in _partitions.Values)
            {
                partition.Kick();
            }
        }
        finally
        {
            Volatile.Write(ref _rejoining, 0);
        }
    }
}
