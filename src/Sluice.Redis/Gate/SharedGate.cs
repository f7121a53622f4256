using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Gate;
using Sluice.Redis.Connection;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// A gate whose partitions share their state through Redis (<see cref="SharedPartition"/>), with a heartbeat that
/// keeps this process's membership and concurrency slots alive, and a local fallback while Redis cannot be reached
/// (SharedGate.Fallback.cs).
/// </summary>
internal sealed partial class SharedGate : SluiceGate
{
    private readonly ConcurrentDictionary<string, SharedPartition> _partitions = new(StringComparer.Ordinal);
    private readonly PartitionLimits _defaults;
    private readonly Dictionary<string, PartitionLimits> _overrides;
    private readonly Func<string, PartitionLimits?>? _selector;
    private readonly int _maxPartitions;
    private readonly TimeSpan _idleTimeout;
    private readonly ConnectionMultiplexer _redis;
    private readonly ITimer _heartbeat;
    private readonly Meter? _ownMeter;
    private long _nextLease;
    private int _blocking;
    private int _disposed;

    public SharedGate(RedisGateOptions redis, GateOptions options, TimeProvider time, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
        : base(time, meterFactory)
    {
        Clock = time;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = LoggerFactory.CreateLogger("Sluice.Redis.Gate");
        Prefix = redis.KeyPrefix;
        LeaseTimeToLive = redis.LeaseTimeToLive;
        OperationTimeout = redis.OperationTimeout;
        Described = RedisConnection.Describe(redis.Configuration);
        MemberId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 6)) + "-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        _defaults = options.DefaultLimits.Clone();
        _overrides = options.Partitions.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
        _selector = options.LimitsSelector;
        _maxPartitions = options.MaxPartitions;
        _idleTimeout = options.PartitionIdleTimeout;
        _since = time.GetUtcNow();

        var configuration = RedisConnection.Parse(redis.Configuration);
        int timeout = (int)Math.Ceiling(redis.OperationTimeout.TotalMilliseconds);
        configuration.SyncTimeout = timeout;
        configuration.AsyncTimeout = timeout;
        configuration.ConnectTimeout = timeout;
        configuration.ClientName = "sluice-gate";

        _redis = ConnectionMultiplexer.Connect(configuration);
        Database = _redis.GetDatabase();
        Subscriber = _redis.GetSubscriber();
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;

        var meter = meterFactory?.Create(Telemetry.SluiceTelemetry.Name) ?? (_ownMeter = new Meter(Telemetry.SluiceTelemetry.Name));
        meter.CreateObservableGauge("sluice.redis.shared", () => Status.Shared ? 1 : 0, description: "1 while the gate shares its budgets through Redis, 0 while it runs on its local share");
        meter.CreateObservableGauge("sluice.redis.members", () => Status.Members, description: "Processes last seen alive on the gate's Redis key prefix");

        // The first heartbeat says whether Redis is there; without it the gate starts on its local share.
        _heartbeat = time.CreateTimer(static state => ((SharedGate)state!).OnHeartbeat(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (!_redis.IsConnected)
        {
            // Connect has waited its timeout already: a call now would only wait as long again, admitting nothing.
            GoLocal(new IOException("sluice: could not connect to Redis at " + Described));
        }
        else
        {
            try
            {
                _members = Math.Max(1, (int)(long)Database.ScriptEvaluate(GateScripts.Members, [PartitionKeys.Members(Prefix)], [NowMs(), (long)LeaseTimeToLive.TotalMilliseconds, MemberId, "0"]));
                _mode = GateMode.Shared;
                RedisGateLog.Started(Logger, Described, Prefix, _members);
            }
            catch (Exception e) when (IsUnavailable(e))
            {
                GoLocal(e);
            }
        }

        ScheduleHeartbeat();
    }

    public override IReadOnlyCollection<GatePartition> Partitions => _partitions.Values.ToArray();

    internal TimeProvider Clock { get; }

    internal ILoggerFactory LoggerFactory { get; }

    internal ILogger Logger { get; }

    internal IDatabase Database { get; }

    internal ISubscriber Subscriber { get; }

    internal string Prefix { get; }

    internal string MemberId { get; }

    internal string Described { get; }

    internal TimeSpan LeaseTimeToLive { get; }

    internal TimeSpan OperationTimeout { get; }

    /// <summary>Redis's time is the gate's clock in Unix milliseconds (the scripts keep the latest any process stated).</summary>
    internal long NowMs() => Clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Takes the gate's one permit to block a thread on Redis (see SharedPartition.Admission.cs); false when another
    /// thread holds it, and the caller goes asynchronous instead.
    /// </summary>
    internal bool TryEnterBlocking() => Interlocked.CompareExchange(ref _blocking, 1, 0) == 0;

    internal void ExitBlocking() => Volatile.Write(ref _blocking, 0);

    /// <summary>A slot id no other process or lease uses.</summary>
    internal string NewLeaseId() => MemberId + ":" + Interlocked.Increment(ref _nextLease).ToString(CultureInfo.InvariantCulture);

    public override GatePartition GetPartition(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (_partitions.TryGetValue(key, out var existing))
        {
            existing.Touch();
            return existing;
        }

        if (_partitions.Count >= _maxPartitions)
        {
            Sweep();
            if (_partitions.Count >= _maxPartitions)
            {
                return new RejectingPartition($"sluice: the gate holds its limit of {_maxPartitions} partitions and none has been idle for {_idleTimeout}; a new partition is made once one has");
            }
        }

        var created = new SharedPartition(this, key, LimitsFor(key));
        var winner = _partitions.GetOrAdd(key, created);
        if (!ReferenceEquals(winner, created))
        {
            created.Dispose();
        }
        else
        {
            winner.Start();
        }

        winner.Touch();
        return winner;
    }

    /// <summary>Tells whether an exception means Redis cannot be reached now (as opposed to a bug).</summary>
    internal static bool IsUnavailable(Exception e) =>
        e is RedisConnectionException or TimeoutException or ObjectDisposedException
        || (e is RedisServerException server && (server.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || server.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal) || server.Message.StartsWith("READONLY", StringComparison.Ordinal)));

    /// <summary>For tests: the process dies here. Nothing is released, renewed or announced again; the connection closes.</summary>
    internal void Abandon()
    {
        Interlocked.Exchange(ref _disposed, 1);
        _heartbeat.Dispose();
        foreach (var partition in _partitions.Values)
        {
            partition.Dispose();
        }

        _redis.Dispose();
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    protected override void Dispose(bool disposing)
    {
        if (!disposing || Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _heartbeat.Dispose();
        foreach (var partition in _partitions.Values)
        {
            partition.Dispose();
        }

        try
        {
            // Leave at once rather than a TTL later, so the others' share grows back soon.
            Database.ScriptEvaluate(GateScripts.Members, [PartitionKeys.Members(Prefix)], [NowMs(), (long)LeaseTimeToLive.TotalMilliseconds, MemberId, "1"]);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            // Our entry expires by itself.
        }

        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
        _redis.Dispose();
        _local?.Gate.Dispose();
        _ownMeter?.Dispose();
    }

    /// <summary>Removes partitions nobody has used for the idle timeout and that hold nothing.</summary>
    private void Sweep()
    {
        if (_idleTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        foreach (var (key, partition) in _partitions)
        {
            if (partition.IsIdleFor(_idleTimeout) && _partitions.TryRemove(KeyValuePair.Create(key, partition)))
            {
                partition.Dispose();
                OnPartitionEvicted(key);
            }
        }
    }

    private PartitionLimits LimitsFor(string key)
    {
        if (_overrides.TryGetValue(key, out var configured))
        {
            return configured.Clone();
        }

        if (_selector?.Invoke(key) is { } chosen)
        {
            SharedPartition.Validate(chosen);
            return chosen.Clone();
        }

        return _defaults.Clone();
    }
}
