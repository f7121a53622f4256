using System.Threading.RateLimiting;
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
internal sealed partial class LocalPartition : GatePartition, IDisposable
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly SluiceMetrics _metrics;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _tag;
    private readonly PriorityQueue<GateWaiter, GateWaiter> _waiters = new(GateWaiterComparer.Instance);

    private PartitionLimits _limits;

    // Budgets in force, per second, whatever their source (configuration, headers, the 429 probe); null: none.
    private double? _requestRate;
    private TokenBucket _requests;
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
    private PartitionRateLimiter? _rateLimiter;

    public LocalPartition(string key, PartitionLimits limits, TimeProvider time, SluiceMetrics metrics, ILogger logger)
    {
        Key = key;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _tag = new(SluiceMetrics.PartitionTag, key);
        _idleSince = time.GetTimestamp();
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

    internal long TotalAdmitted => Interlocked.Read(ref _totalAdmitted);

    internal long TotalRejected => Interlocked.Read(ref _totalRejected);

    /// <summary>How long the partition has had nothing in flight and nobody waiting; null while busy.</summary>
    internal TimeSpan? IdleDuration
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
            long end = now + ToTimestampTicks(pause);
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
            while (_waiters.TryDequeue(out var waiter, out _))
            {
                if (!waiter.IsDone)
                {
                    waiter.IsDone = true;
                    _queued--;
                    effects.Reject(waiter, new GateLease(GateRejectionReason.Stopped, reason, retryAfter: null));
                }
            }
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
            double? requests = null;
            if (_requestRate is not null)
            {
                _requests.Refill(now);
                requests = _requests.Level;
            }

            var budgets = TokenBudgetSnapshotsLocked(now);
            double? tokens = TokenRate(BudgetDimension.Tokens) is null ? null : _tokenBudgets[(int)BudgetDimension.Tokens].Bucket.Level;
            return new PartitionSnapshot(Key, _inFlight, _queued, EffectiveConcurrencyLocked(now), requests, tokens, pausedUntil, _stopReason)
            {
                RequestsPerMinute = PerMinute(_requestRate),
                TokensPerMinute = PerMinute(TokenRate(BudgetDimension.Tokens)),
                AdaptiveConcurrency = _aimd is not null,
                RequestBudgetSource = _requestSource,
                TokenBudgetSource = _tokenBudgets[(int)BudgetDimension.Tokens].Source,
                Budgets = requests is { } level
                    ? [new BudgetSnapshot(BudgetDimension.Requests, PerMinute(_requestRate)!.Value, TimeSpan.FromMinutes(1), level, _requestSource), .. budgets]
                    : budgets,
            };
        }
    }

    // Rates are kept per second; a budget stated per minute comes back whole, not as 500.00000000000006.
    private static double? PerMinute(double? perSecond) => perSecond is { } rate ? Math.Round(rate * 60, 6) : null;

    public override RateLimiter AsRateLimiter() =>
        LazyInitializer.EnsureInitialized(ref _rateLimiter, () => new PartitionRateLimiter(this));

    /// <summary>Called by <see cref="GateLease.Dispose"/>: frees the concurrency slot and admits whoever can start.</summary>
    internal void Release()
    {
        Effects effects;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (--_inFlight == 0)
            {
                _idleSince = now;
            }

            // An answer ended: whatever headers it had were observed, and without any the wait for them is over.
            _firstHeadersPending = false;

            AssertInvariantsLocked();
            effects = ScheduleLocked(now);
        }

        _metrics.InFlight.Add(-1, _tag);
        Apply(ref effects);
    }
}
