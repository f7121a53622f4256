using Sluice.Adaptive;
using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>
/// Where the partition's limits come from and how they move: the configured limits, the budgets the provider's headers
/// state, the request rate learned from 429s when nothing states one, and the adaptive concurrency limit.
/// </summary>
internal sealed partial class LocalPartition
{
    // Providers state their budgets per minute (OpenAI RPM/TPM, Anthropic's per-minute limits).
    private const double ProviderWindowSeconds = 60;

    private AimdLimit? _aimd;
    private RateProbe? _probe;
    private double? _headerRequestsPerSecond;
    private BudgetSource _requestSource;

    public override void ObserveRequests(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(remaining, resetAt, limit);

    public override void ObserveTokens(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        ObserveWindowTokens(BudgetDimension.Tokens, remaining, resetAt, limit);

    internal override void RecordOutcome(GateLease lease, PacingSignal signal)
    {
        // Without adaptive concurrency only a 429 can teach anything (the probe's rate): spare the lock otherwise.
        if (signal == PacingSignal.None || (_aimd is null && (signal != PacingSignal.Throttled || _probe is null)))
        {
            return;
        }

        Effects effects = default;
        int? concurrency = null;
        double? probedRate = null;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            bool changed = false;
            if (_aimd is not null)
            {
                int limit = _aimd.Update(signal, _inFlight, lease.AdmittedAt, now);
                if (limit != _concurrencyLimit)
                {
                    _concurrencyLimit = limit;
                    concurrency = limit;
                    changed = true;
                }
            }

            if (signal == PacingSignal.Throttled && ProbeActiveLocked && _probe!.Throttled(lease.AdmittedAt, now))
            {
                // The refusal says the provider's allowance is spent: a new or cut budget starts empty, not with a burst.
                ApplyBudgetsLocked(now);
                _requests.Empty(now);
                probedRate = _requestRate;
                changed = true;
            }

            if (changed)
            {
                effects = ScheduleLocked(now);
            }
        }

        Apply(ref effects);
        if (concurrency is { } value)
        {
            Log.ConcurrencyAdapted(_logger, Key, value);
        }

        if (probedRate is { } rate)
        {
            Log.RateLearned(_logger, Key, rate * 60);
        }
    }

    /// <summary>The 429 probe paces only where neither configuration nor headers state a request budget.</summary>
    private bool ProbeActiveLocked => _probe is not null && _limits.RequestsPerWindow is null && _headerRequestsPerSecond is null;

    private void Observe(long remaining, DateTimeOffset resetAt, long? limit)
    {
        if (remaining < 0 || limit <= 0)
        {
            return;
        }

        TimeSpan untilReset = resetAt - _time.GetUtcNow();
        Effects effects = default;
        bool learned = false;
        double? requestsPerMinute;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (_limits.LearnBudgets && limit is { } stated && _headerRequestsPerSecond != stated / ProviderWindowSeconds)
            {
                _headerRequestsPerSecond = stated / ProviderWindowSeconds;
                learned = ApplyBudgetsLocked(now);
            }

            if (_requestRate is { } rate)
            {
                // The provider's count of what is left is in its own units; without a stated limit, ours stands in.
                _requests.Observe(remaining, limit ?? (rate * ProviderWindowSeconds), now + ToTimestampTicks(untilReset), now);
            }

            // Observing only ever makes admission stricter; a learned budget may have loosened it.
            if (learned)
            {
                effects = ScheduleLocked(now);
            }

            requestsPerMinute = _requestRate * 60;
        }

        if (learned)
        {
            Apply(ref effects);
            Log.BudgetLearned(_logger, Key, BudgetDimension.Requests, requestsPerMinute);
        }
    }

    /// <summary>Takes new configured limits: the concurrency mode and limit, then the budgets in force.</summary>
    private void ApplyLimitsLocked(PartitionLimits limits, long now)
    {
        _limits = limits;
        if (limits.AdaptiveConcurrency)
        {
            // A running partition keeps what it has learned, within the new ceiling.
            int start = _aimd is null ? AimdLimit.InitialLimit : Math.Min(_concurrencyLimit, limits.MaxConcurrency);
            _aimd = new AimdLimit(limits.MaxConcurrency, initial: start);
            _concurrencyLimit = _aimd.Limit;
        }
        else
        {
            _aimd = null;
            _concurrencyLimit = limits.MaxConcurrency;
        }

        if (!limits.LearnBudgets)
        {
            _probe = null;
            _headerRequestsPerSecond = null;
        }
        else
        {
            _probe ??= new RateProbe(_time.TimestampFrequency);
        }

        ApplyBudgetsLocked(now);
    }

    /// <summary>
    /// Puts in force the strictest of what is known about each budget: configured, stated by headers, learned from
    /// 429s. Returns true when a budget changed.
    /// </summary>
    private bool ApplyBudgetsLocked(long now)
    {
        double? configuredRequests = _limits.RequestsPerWindow is { } r ? _limits.PerSecond(r) : null;
        double? probed = ProbeActiveLocked ? _probe!.RatePerSecond(now) : null;
        (double? requests, _requestSource) = Strictest(configuredRequests, _headerRequestsPerSecond, probed);
        bool changed = SetRate(ref _requestRate, ref _requests, requests, now);
        changed |= ApplyTokenBudgetsLocked(now);
        return changed;
    }

    /// <summary>Moves the request budget along the probe's curve, which changes with time, not only with events.</summary>
    private void FollowProbeLocked(long now)
    {
        if (_probe is { HasRate: true } && ProbeActiveLocked)
        {
            SetRate(ref _requestRate, ref _requests, _probe.RatePerSecond(now), now);
        }
    }

    private bool SetRate(ref double? current, ref TokenBucket bucket, double? rate, long now)
    {
        if (current == rate)
        {
            return false;
        }

        if (rate is { } perSecond)
        {
            double capacity = _limits.RequestCapacityAt(perSecond);
            if (current is null)
            {
                bucket = new TokenBucket(perSecond, capacity, now, _time.TimestampFrequency);
            }
            else
            {
                bucket.Reconfigure(perSecond, capacity, now);
            }
        }

        current = rate;
        return true;
    }

    private static (double? Rate, BudgetSource Source) Strictest(double? configured, double? headers, double? probed)
    {
        (double? rate, var source) = (configured, configured is null ? BudgetSource.None : BudgetSource.Configured);
        if (headers is { } stated && (rate is null || stated < rate))
        {
            (rate, source) = (stated, BudgetSource.Headers);
        }

        // The probe runs only where nothing else states a budget.
        return probed is { } learned ? (learned, BudgetSource.Throttling) : (rate, source);
    }
}
