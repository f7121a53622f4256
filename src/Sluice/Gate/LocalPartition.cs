using System.Diagnostics;
using Sluice.Adaptive;
using Microsoft.Extensions.Logging;
using Sluice.Options;
using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>
/// An in-process partition. All state is guarded by one lock per partition, so partitions never contend with each
/// other. Nothing polls: when the head waiter cannot start, the partition computes the instant it can and arms its
/// single timer for it; releases, refunds and limit changes also wake it. Work that may reach code outside Sluice
/// (completing a waiter, recording a metric, writing a log) happens after the lock is released.
/// </summary>
/// <remarks>
/// Three files: this one holds the state and the caller-facing controls; LocalPartition.Admission.cs the queue and
/// timer machine; LocalPartition.Learning.cs what answers teach (outcomes, headers). Which budget is in force and
/// when it allows a request is <see cref="PartitionBudgets"/>'s, a pure policy the partition consults under its lock.
/// </remarks>
internal sealed partial class LocalPartition : GatePartition, IDisposable
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly SluiceMetrics _metrics;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _tag;

    private readonly PartitionBudgets _budgets;
    private readonly WakeTimer _timer;

    private PartitionLimits _limits;
    private int _concurrencyLimit;
    private int _inFlight;
    private int _queued;
    private long _pausedUntil = long.MinValue;
    private string? _stopReason;
    private long _nextSequence;
    private long _nextFrontSequence = long.MinValue / 2;
    private long _idleSince;
    private long _totalAdmitted;
    private long _totalRejected;

    public LocalPartition(string key, PartitionLimits limits, TimeProvider time, SluiceMetrics metrics, ILogger logger, TimeSpan priorityAging, int maxTenants)
    {
        _agingTicks = priorityAging == Timeout.InfiniteTimeSpan ? long.MaxValue : Math.Max(1, Timestamps.FromTimeSpan(priorityAging, time.TimestampFrequency));
        _maxTenants = maxTenants;
        Key = key;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _tag = new(SluiceMetrics.PartitionTag, key);
        _idleSince = time.GetTimestamp();
        _budgets = new PartitionBudgets(time.TimestampFrequency);
        _timer = new WakeTimer(time, OnTimer);
        _floor = new LittleFloor(time.TimestampFrequency);
        _limits = limits;
        ApplyLimitsLocked(limits, _idleSince);
    }

    public override string Key { get; }

    public override int ConcurrencyLimit
    {
        get
        {
            lock (_lock)
            {
                return EffectiveConcurrencyLocked(_time.GetTimestamp());
            }
        }

        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Effects effects;
            lock (_lock)
            {
                _concurrencyLimit = value;
                effects = ScheduleLocked(_time.GetTimestamp());
            }

            Apply(ref effects);
        }
    }

    internal override long TotalAdmitted => Interlocked.Read(ref _totalAdmitted);

    internal override long TotalRejected => Interlocked.Read(ref _totalRejected);

    /// <summary>How long the partition has had nothing in flight and nobody waiting; null while busy.</summary>
    internal override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                return _inFlight == 0 && _queued == 0 ? _time.GetElapsedTime(_idleSince) : null;
            }
        }
    }

    public override void PauseUntil(DateTimeOffset until)
    {
        TimeSpan pause = until - _time.GetUtcNow();
        if (pause <= TimeSpan.Zero)
        {
            return;
        }

        Effects effects;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            long end = now + Timestamps.FromTimeSpan(pause, _time.TimestampFrequency);
            if (end <= _pausedUntil)
            {
                return;
            }

            _pausedUntil = end;
            effects = ScheduleLocked(now);
        }

        Apply(ref effects);
        _metrics.Pauses.Add(1, _tag);
        Log.PartitionPaused(_logger, Key, pause);
    }

    public override void Stop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        Effects effects = default;
        lock (_lock)
        {
            _stopReason = reason;
            foreach (var tenant in _active.ToArray())
            {
                foreach (var waiter in tenant.DrainAll())
                {
                    if (!waiter.IsDone)
                    {
                        waiter.IsDone = true;
                        WaiterLeftLocked(tenant);
                        effects.Reject(waiter, new GateLease(GateRejectionReason.Stopped, reason, retryAfter: null));
                    }
                }
            }

            AssertInvariantsLocked();
        }

        Apply(ref effects);
        Log.PartitionStopped(_logger, Key, reason);
    }

    public override void Resume()
    {
        Effects effects;
        lock (_lock)
        {
            if (_stopReason is null)
            {
                return;
            }

            _stopReason = null;
            effects = ScheduleLocked(_time.GetTimestamp());
        }

        Apply(ref effects);
        Log.PartitionResumed(_logger, Key);
    }

    public override void UpdateLimits(PartitionLimits limits)
    {
        OptionsGuard.ThrowIfInvalid(new PartitionLimitsValidator(), limits, nameof(limits));
        var copy = limits.Clone();
        Effects effects;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            ApplyLimitsLocked(copy, now);
            effects = ScheduleLocked(now);
        }

        Apply(ref effects);
        Log.LimitsChanged(_logger, Key, copy.MaxConcurrency, copy.RequestsPerWindow, copy.TokensPerWindow, copy.Window);
    }

    public override PartitionSnapshot GetSnapshot()
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            DateTimeOffset? pausedUntil = _pausedUntil > now ? _time.GetUtcNow() + _time.GetElapsedTime(now, _pausedUntil) : null;
            var budgets = _budgets.Snapshot(now, out double? requests, out double? tokens);
            return new PartitionSnapshot(Key, _inFlight, _queued, EffectiveConcurrencyLocked(now), requests, tokens, pausedUntil, _stopReason)
            {
                RequestsPerMinute = _budgets.RequestRate is { } requestRate ? PartitionBudgets.PerMinute(requestRate) : null,
                TokensPerMinute = _budgets.TokenRate(BudgetDimension.Tokens) is { } tokenRate ? PartitionBudgets.PerMinute(tokenRate) : null,
                AdaptiveConcurrency = _aimd is not null,
                RequestBudgetSource = _budgets.RequestSource,
                TokenBudgetSource = _budgets.TokenSource,
                Budgets = budgets,
                Tenants = TenantSnapshotsLocked(now),
            };
        }
    }

    /// <summary>Called by <see cref="GateLease.Dispose"/>, once per lease: frees the concurrency slot and admits whoever can start.</summary>
    protected internal override void OnLeaseReleased(GateLease lease)
    {
        Effects effects;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (--_inFlight == 0)
            {
                _idleSince = now;
            }

            if (lease.Tenant is { } tenant)
            {
                tenant.InFlight--;
                tenant.LastUsed = now;
            }

            // An answer ended: whatever headers it had were observed, and without any the wait for them is over.
            _firstHeadersPending = false;

            AssertInvariantsLocked();
            effects = ScheduleLocked(now);
        }

        _metrics.InFlight.Add(-1, _tag);
        Apply(ref effects);
    }

    /// <summary>Called by <see cref="GateLease.Settle(BudgetDimension, long)"/>: charges (more than reserved) or refunds (less) one token dimension.</summary>
    protected internal override void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous)
    {
        if (dimension == BudgetDimension.Tokens)
        {
            _metrics.TokensSettled.Add(actual, _tag);
        }

        long delta = actual - previous;
        if (delta == 0)
        {
            return;
        }

        Effects effects = default;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            _budgets.Settle(dimension, delta, lease.Ticket, now);
            SettleTenantLocked(lease, dimension, delta, now);
            AssertInvariantsLocked();

            // A refund may let the head in; a charge only ever delays it.
            if (delta < 0)
            {
                effects = ScheduleLocked(now);
            }
        }

        Apply(ref effects);
    }

    // Stryker disable all : debug-only invariant checks; the Release build that mutation runs test compiles them away.

    /// <summary>Checks, in debug builds, the partition's counts against each other and the budgets against their bounds.</summary>
    [Conditional("DEBUG")]
    private void AssertInvariantsLocked()
    {
        Debug.Assert(_inFlight >= 0, "in-flight count below zero");
        Debug.Assert(_inFlight <= _totalAdmitted, "more in flight than were ever admitted");
        Debug.Assert(_queued >= 0, "queued count below zero");
        Debug.Assert(_stopReason is null || _queued == 0, "a stopped partition holds waiters");
        Debug.Assert(_concurrencyLimit >= 1, "concurrency limit below one");
        _budgets.AssertInvariants();
        AssertTenantInvariantsLocked();
    }

    // Stryker restore all
}
