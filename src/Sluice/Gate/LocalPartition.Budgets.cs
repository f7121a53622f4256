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

    // A 429 without a stated wait: the first inferred pause, and the longest (a provider's window is a minute at most).
    private static readonly TimeSpan FirstInferredWait = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxInferredWait = TimeSpan.FromSeconds(60);

    // The request bucket's burst never shrinks below this share of the configured one (and never below one request).
    private const double MinBurstScale = 1.0 / 64;

    // A stated or configured request budget gives way to the probe's only when the probe measured well below it.
    private const double ProbeOverrideRatio = 0.5;

    private AimdLimit? _aimd;
    private RateProbe? _probe;
    private LittleFloor _floor = null!;
    private long _lastThrottleAt = long.MinValue;
    private int _throttleStreak;
    private double _requestBurstScale = 1;
    private double? _headerRequestsPerSecond;
    private BudgetSource _requestSource;

    public override void ObserveRequests(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(remaining, resetAt, limit);

    public override void ObserveTokens(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        ObserveWindowTokens(BudgetDimension.Tokens, remaining, resetAt, limit);

    internal override TimeSpan RecordOutcome(GateLease lease, PacingSignal signal, bool waitStated = true)
    {
        // Without adaptive concurrency only a 429, or the first answer after one, can teach anything: spare the lock
        // otherwise (the unlocked read of the streak can only cost one needless lock).
        if (signal == PacingSignal.None || (_aimd is null && signal != PacingSignal.Throttled && Volatile.Read(ref _throttleStreak) == 0))
        {
            return TimeSpan.Zero;
        }

        Effects effects = default;
        int? concurrency = null;
        double? probedRate = null;
        TimeSpan pause = TimeSpan.Zero;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (signal == PacingSignal.Success)
            {
                _floor.Answered(lease.AdmittedAt, now);
                _throttleStreak = 0;
            }

            if (signal == PacingSignal.Throttled)
            {
                bool newEvent = lease.AdmittedAt > _lastThrottleAt;
                if (_probe is not null && _probe.Throttled(lease.Admission, lease.AdmittedAt, now))
                {
                    // The refusal says the provider's allowance is spent: a new or cut budget starts empty, not with a burst.
                    ApplyBudgetsLocked(now);
                    if (_requestSource == BudgetSource.Throttling)
                    {
                        _requests.Empty(now);
                        probedRate = _requestRate;
                    }
                }

                if (!waitStated)
                {
                    pause = InferWaitLocked(newEvent, now);
                }

                if (newEvent)
                {
                    _lastThrottleAt = now;
                }
            }

            // A 429 while a request rate paces the partition is the rate's business (the probe and the bucket answer
            // it); cutting the concurrency too would make the concurrency, not the upstream, the bottleneck.
            if (_aimd is not null && !(signal == PacingSignal.Throttled && _requestRate is not null))
            {
                int limit = _aimd.Update(signal, _inFlight, lease.AdmittedAt, now);
                if (limit != _concurrencyLimit)
                {
                    _concurrencyLimit = limit;
                    concurrency = limit;
                }
            }

            // A refusal only ever tightens admission, and the dispatcher pauses the partition after this returns, while
            // the refused attempt still holds its slot: admitting a waiter here would send it straight into the 429. An
            // answer may have raised the limit (or the Little floor, through the latency).
            if (signal != PacingSignal.Throttled)
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

        return pause;
    }

    /// <summary>
    /// The wait after a 429 that states none (nginx's <c>limit_req</c>, most gateways): inferred, not a fixed second,
    /// since such a limiter's window is often tens of milliseconds. With a request rate in force the refusal says the
    /// allowance is spent: the bucket is emptied (the next request waits one interval) and its burst halved (the
    /// limiter's burst is smaller than ours); token budgets in force are emptied too (and their bursts halved), since
    /// the refusal may have been theirs. Without a request rate, the partition pauses briefly, twice as long for each further
    /// refusal with no answer in between, which finds a long window (a fixed minute) in a few tries.
    /// </summary>
    private TimeSpan InferWaitLocked(bool newEvent, long now)
    {
        EmptyTokenBudgetsLocked(shrinkBursts: newEvent, now);
        if (!newEvent)
        {
            if (_requestRate is not null)
            {
                _requests.Empty(now);
            }

            return TimeSpan.Zero;
        }

        _throttleStreak++;
        if (_requestRate is { } rate)
        {
            _requestBurstScale = Math.Max(MinBurstScale, _requestBurstScale / 2);
            _requests.Reconfigure(rate, RequestCapacityLocked(rate), now);
            _requests.Empty(now);
            return TimeSpan.Zero;
        }

        double seconds = Math.Min(MaxInferredWait.TotalSeconds, FirstInferredWait.TotalSeconds * Math.Pow(2, Math.Min(_throttleStreak - 1, 20)));
        var pause = TimeSpan.FromSeconds(seconds);
        long end = now + ToTimestampTicks(pause);
        if (end > _pausedUntil)
        {
            _pausedUntil = end;
        }

        return pause;
    }

    /// <summary>The in-flight limit in force: the adaptive one, raised to what the budgets need (Little's law).</summary>
    private int EffectiveConcurrencyLocked(long now) =>
        _aimd is null ? _concurrencyLimit : Math.Max(_concurrencyLimit, _floor.Floor(BudgetRateLocked, now));

    /// <summary>The requests per second the budgets in force allow; null when none is known.</summary>
    private double? BudgetRateLocked => _floor.BudgetRate(_requestRate, TokenRate(BudgetDimension.Tokens));

    private double RequestCapacityLocked(double perSecond) => Math.Max(1, Math.Floor(_limits.RequestCapacityAt(perSecond) * _requestBurstScale));

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
        _floor ??= new LittleFloor(_time.TimestampFrequency);
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
        double? probed = _probe?.RatePerSecond(now);
        (double? requests, _requestSource) = Strictest(configuredRequests, _headerRequestsPerSecond, probed, measured: _probe?.IsMeasured == true);
        bool changed = SetRate(ref _requestRate, ref _requests, requests, now);
        changed |= ApplyTokenBudgetsLocked(now);
        return changed;
    }

    /// <summary>Moves the request budget along the probe's curve, which changes with time, not only with events.</summary>
    private void FollowProbeLocked(long now)
    {
        if (_probe is { HasRate: true })
        {
            ApplyBudgetsLocked(now);
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
            double capacity = RequestCapacityLocked(perSecond);
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

    private static (double? Rate, BudgetSource Source) Strictest(double? configured, double? headers, double? probed, bool measured)
    {
        (double? rate, var source) = (configured, configured is null ? BudgetSource.None : BudgetSource.Configured);
        if (headers is { } stated && (rate is null || stated < rate))
        {
            (rate, source) = (stated, BudgetSource.Headers);
        }

        // The probe paces where nothing else states a budget, and where its measurements show the stated one is well
        // too high; a lower bound, or a cut from one, says nothing against a stated budget.
        bool overrides = rate is null || (measured && probed < rate * ProbeOverrideRatio);
        return probed is { } learned && overrides ? (learned, BudgetSource.Throttling) : (rate, source);
    }

}
