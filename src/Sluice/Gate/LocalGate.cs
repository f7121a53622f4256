using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Options;
using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>
/// A gate whose partitions live in this process: at most <see cref="GateOptions.MaxPartitions"/> of them, and a
/// partition idle for <see cref="GateOptions.PartitionIdleTimeout"/> is removed. Nothing polls: a look-up sweeps the
/// table when a minute (or the idle timeout, if shorter) has passed since the last sweep, and a new key at a full table
/// sweeps at once (at most once a second). Keys can come from what callers send, so nothing here grows with them.
/// </summary>
internal sealed class LocalGate : SluiceGate
{
    /// <summary>The longest between two sweeps for idle partitions.</summary>
    private static readonly TimeSpan SweepPeriod = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, LocalPartition> _partitions = new(StringComparer.Ordinal);
    private readonly PartitionLimits _defaults;
    private readonly Dictionary<string, PartitionLimits> _overrides;
    private readonly Func<string, PartitionLimits?>? _selector;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _maxPartitions;
    private readonly TimeSpan _priorityAging;
    private readonly int _maxTenants;
    private readonly TimeSpan _idleTimeout;
    private readonly RefusedPartition _refused;
    private readonly TimeSpan _sweepPeriod;
    private readonly object _sweepLock = new();
    private int _count;
    private long _lastSweep;

    public LocalGate(GateOptions options, TimeProvider time, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
        : base(Validated(options, time), meterFactory)
    {
        _defaults = options.DefaultLimits.Clone();
        _overrides = options.Partitions.ToDictionary(p => p.Key, p => p.Value.Clone(), StringComparer.Ordinal);
        _selector = options.LimitsSelector;
        _time = time;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Sluice.Gate");
        _maxPartitions = options.MaxPartitions;
        _priorityAging = options.PriorityAging;
        _maxTenants = options.MaxTenants;
        _idleTimeout = options.PartitionIdleTimeout;
        _refused = new RefusedPartition(
            $"sluice: the gate holds its limit of {_maxPartitions} partitions and none has been idle for {_idleTimeout}; a new partition is made once one has");
        _sweepPeriod = _idleTimeout < SweepPeriod ? _idleTimeout : SweepPeriod;
        _lastSweep = time.GetTimestamp();
    }

    public override IReadOnlyCollection<GatePartition> Partitions => _partitions.Values.ToArray();

    /// <summary>Partitions held now.</summary>
    internal int Count => Volatile.Read(ref _count);

    public override GatePartition GetPartition(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        SweepIfDue(_sweepPeriod);
        while (true)
        {
            if (_partitions.TryGetValue(key, out var existing))
            {
                if (existing.Touch())
                {
                    return existing;
                }

                // Retired by a sweep that has not yet taken it out: take it out here and make a fresh one.
                Remove(key, existing);
                continue;
            }

            if (!TryReserve())
            {
                SweepIfDue(TimeSpan.FromSeconds(1));
                if (!TryReserve())
                {
                    if (_partitions.ContainsKey(key))
                    {
                        continue;
                    }

                    Log.PartitionRefused(_logger, _maxPartitions, _idleTimeout);
                    return _refused;
                }
            }

            var created = new LocalPartition(key, LimitsFor(key), _time, Metrics, _logger, _priorityAging, _maxTenants);
            var winner = _partitions.GetOrAdd(key, created);
            if (!ReferenceEquals(winner, created))
            {
                created.Dispose();
                Interlocked.Decrement(ref _count);
            }

            if (winner.Touch())
            {
                return winner;
            }
        }
    }

    /// <summary>Removes every partition idle for the idle timeout; run by look-ups, at most once a sweep period.</summary>
    internal void Sweep()
    {
        if (_idleTimeout == Timeout.InfiniteTimeSpan || !Monitor.TryEnter(_sweepLock))
        {
            return;
        }

        List<string>? evicted = null;
        try
        {
            foreach (var (key, partition) in _partitions)
            {
                if (partition.TryRetire(_idleTimeout) && Remove(key, partition))
                {
                    (evicted ??= []).Add(key);
                }
            }
        }
        finally
        {
            Monitor.Exit(_sweepLock);
        }

        if (evicted is null)
        {
            return;
        }

        Log.PartitionsEvicted(_logger, evicted.Count, _idleTimeout, Count);
        foreach (string key in evicted)
        {
            OnPartitionEvicted(key);
        }
    }

    /// <summary>Sweeps if <paramref name="every"/> has passed since the last sweep: a stream of look-ups or new keys must not make every one scan the table.</summary>
    private void SweepIfDue(TimeSpan every)
    {
        if (_idleTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        long now = _time.GetTimestamp();
        long last = Interlocked.Read(ref _lastSweep);
        if (_time.GetElapsedTime(last, now) >= every && Interlocked.CompareExchange(ref _lastSweep, now, last) == last)
        {
            Sweep();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var partition in _partitions.Values)
            {
                partition.Dispose();
            }
        }
    }

    /// <summary>Validates the options before the base class makes the gate's instruments, so invalid options leave nothing behind.</summary>
    private static TimeProvider Validated(GateOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options.DefaultLimits, nameof(options.DefaultLimits));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPartitions, 1, nameof(options.MaxPartitions));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTenants, 1, nameof(options.MaxTenants));
        if (options.PriorityAging <= TimeSpan.Zero && options.PriorityAging != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PriorityAging, "PriorityAging must be positive, or infinite.");
        }

        if (options.PartitionIdleTimeout <= TimeSpan.Zero && options.PartitionIdleTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.PartitionIdleTimeout, "PartitionIdleTimeout must be positive, or infinite.");
        }

        var validator = new PartitionLimitsValidator();
        OptionsGuard.ThrowIfInvalid(validator, options.DefaultLimits, nameof(GateOptions.DefaultLimits));
        foreach (var (key, limits) in options.Partitions)
        {
            OptionsGuard.ThrowIfInvalid(validator, limits, $"{nameof(GateOptions.Partitions)}[{key}]");
        }

        return time;
    }

    /// <summary>Takes a place in the table, unless it is full.</summary>
    private bool TryReserve()
    {
        while (true)
        {
            int count = Volatile.Read(ref _count);
            if (count >= _maxPartitions)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
            {
                return true;
            }
        }
    }

    /// <summary>Takes a retired partition out of the table; its timer is left to run down for any caller still holding it.</summary>
    private bool Remove(string key, LocalPartition partition)
    {
        if (!_partitions.TryRemove(KeyValuePair.Create(key, partition)))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    private PartitionLimits LimitsFor(string key)
    {
        if (_overrides.TryGetValue(key, out var configured))
        {
            return configured.Clone();
        }

        if (_selector?.Invoke(key) is { } chosen)
        {
            OptionsGuard.ThrowIfInvalid(new PartitionLimitsValidator(), chosen, $"{nameof(GateOptions.LimitsSelector)}({key})");
            return chosen.Clone();
        }

        return _defaults.Clone();
    }
}
