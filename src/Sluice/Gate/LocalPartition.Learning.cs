using Sluice.Adaptive;
using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>
/// What answers teach the partition: the limits configured, the budgets the provider's headers state, the request
/// rate learned from 429s when nothing states one, the wait inferred after a 429 that names none, and the adaptive
/// concurrency limit. The budgets themselves are <see cref="PartitionBudgets"/>'s; this file takes the lock, reads
/// the clock and reports.
/// </summary>
internal sealed partial class LocalPartition
{
    // A 429 without a stated wait: the first inferred pause, and the longest (a provider's window is a minute at most).
    private static readonly TimeSpan FirstInferredWait = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxInferredWait = TimeSpan.FromSeconds(60);

    private readonly LittleFloor _floor;
    private AimdLimit? _aimd;
    private long _lastThrottleAt = long.MinValue;
    private int _throttleStreak;

    // Until the first headers (or answer) arrive, with PartitionLimits.AwaitFirstHeaders, one request goes alone.
    private volatile bool _firstHeadersPending = true;

    /// <summary>The in-flight limit in force: the adaptive one, raised to what the budgets need (Little's law).</summary>
    private int EffectiveConcurrencyLocked(long now) =>
        _aimd is null ? _concurrencyLimit : Math.Max(_concurrencyLimit, _floor.Floor(BudgetRateLocked, now));

    /// <summary>The requests per second the budgets in force allow; null when none is known.</summary>
    private double? BudgetRateLocked => _floor.BudgetRate(_budgets.RequestRate, _budgets.TokenRate(BudgetDimension.Tokens));

    protected internal override TimeSpan RecordOutcome(GateLease lease, PacingSignal signal, bool waitStated = true)
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
                probedRate = _budgets.Throttled(lease.Admission, lease.AdmittedAt, ReservedCost(lease), now);
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
            if (_aimd is not null && !(signal == PacingSignal.Throttled && _budgets.RequestRate is not null))
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

            AssertInvariantsLocked();
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
    /// since such a limiter's window is often tens of milliseconds. The budgets in force take the refusal first
    /// (<see cref="PartitionBudgets.AbsorbUnstatedThrottle"/>); with a request rate in force that is answer enough.
    /// Without one, the partition pauses briefly, twice as long for each further refusal with no answer in between,
    /// which finds a long window (a fixed minute) in a few tries.
    /// </summary>
    private TimeSpan InferWaitLocked(bool newEvent, long now)
    {
        bool paced = _budgets.AbsorbUnstatedThrottle(newEvent, now);
        if (!newEvent)
        {
            return TimeSpan.Zero;
        }

        _throttleStreak++;
        if (paced)
        {
            return TimeSpan.Zero;
        }

        double seconds = Math.Min(MaxInferredWait.TotalSeconds, FirstInferredWait.TotalSeconds * Math.Pow(2, Math.Min(_throttleStreak - 1, 20)));
        var pause = TimeSpan.FromSeconds(seconds);
        long end = now + Timestamps.FromTimeSpan(pause, _time.TimestampFrequency);
        if (end > _pausedUntil)
        {
            _pausedUntil = end;
        }

        return pause;
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

        _budgets.Configure(limits, now);
    }

    public override void ObserveRequests(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(BudgetDimension.Requests, remaining, resetAt, limit, countedSince: null);

    public override void ObserveTokens(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(BudgetDimension.Tokens, remaining, resetAt, limit, countedSince: null);

    public override void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(dimension, remaining, resetAt, limit, countedSince: null);

    protected internal override void ObserveAnswerBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, GateLease lease) =>
        Observe(dimension, remaining, resetAt, limit, lease.IsAdmitted ? lease.AdmittedAt : null);

    /// <summary>An answer's headers were all observed: the budgets they state are known, so the partition stops holding back.</summary>
    protected internal override void HeadersObserved()
    {
        if (!_firstHeadersPending)
        {
            return;
        }

        Effects effects;
        lock (_lock)
        {
            _firstHeadersPending = false;
            effects = ScheduleLocked(_time.GetTimestamp());
        }

        Apply(ref effects);
    }

    /// <summary>
    /// The provider's view of one budget. A stated limit is adopted unless a lower one is configured; what remains lowers
    /// the allowance until the reset. Observing only ever makes admission stricter, unless a learned budget loosened it.
    /// </summary>
    private void Observe(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, long? countedSince)
    {
        if (dimension is < BudgetDimension.Requests or > BudgetDimension.TokensPerDay)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Unknown budget dimension.");
        }

        if (remaining < 0 || limit <= 0)
        {
            return;
        }

        TimeSpan untilReset = resetAt - _time.GetUtcNow();
        // Anthropic writes its resets to the whole second (rounded up); a reset computed from a duration practically never
        // falls on one. The share of a budget among peers must allow for a second's error in the bucket's size.
        bool resetToTheSecond = resetAt.UtcTicks % TimeSpan.TicksPerSecond == 0;
        Effects effects = default;
        bool learned;
        double? perMinute;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            long reset = now + Timestamps.FromTimeSpan(untilReset, _time.TimestampFrequency);
            switch (dimension)
            {
                case BudgetDimension.Requests:
                    learned = _budgets.ObserveRequests(remaining, limit, reset, now, countedSince, resetToTheSecond);
                    perMinute = _budgets.RequestRate * 60;
                    break;
                case BudgetDimension.Tokens:
                    // The total-token bucket is large against one request, so a count a latency old costs little; crediting
                    // the refill since admission let through requests the provider, counting a little later, refused
                    // (token-bound benchmark: 1 429 in 600, against none).
                    learned = _budgets.ObserveTokens(dimension, remaining, limit, reset, now, countedSince: null, countedAt: countedSince, resetToTheSecond);
                    perMinute = _budgets.TokenRate(dimension) * 60;
                    break;
                case BudgetDimension.InputTokens or BudgetDimension.OutputTokens:
                    // An output cap is often most of the second's worth the bucket holds: a count a latency old would throw
                    // that latency's refill away at every answer (Anthropic through the proxy: 0.92 instead of 0.98).
                    learned = _budgets.ObserveTokens(dimension, remaining, limit, reset, now, countedSince, countedAt: countedSince, resetToTheSecond);
                    perMinute = _budgets.TokenRate(dimension) * 60;
                    break;
                default:
                    learned = _budgets.ObserveDay(dimension, remaining, limit, reset, now);
                    perMinute = limit;
                    break;
            }

            if (_budgets.TakeShareChange() | learned)
            {
                effects = ScheduleLocked(now);
            }

            _budgets.AssertInvariants();
        }

        Apply(ref effects);
        if (learned)
        {
            Log.BudgetLearned(_logger, Key, dimension, perMinute);
        }
    }

    /// <summary>What an admitted lease reserved from the token-side budgets, as admitted (before any settlement).</summary>
    private static BudgetCost ReservedCost(GateLease lease) =>
        new(lease.Reserved(BudgetDimension.Tokens), lease.Reserved(BudgetDimension.InputTokens), lease.Reserved(BudgetDimension.OutputTokens));
}
