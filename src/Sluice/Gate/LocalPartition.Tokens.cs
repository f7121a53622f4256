using System.Diagnostics;

namespace Sluice.Gate;

/// <summary>
/// The token side of the partition's budgets: tokens, input tokens and output tokens per window (token buckets, each
/// configured or stated by the provider's headers), and the per-day budgets (sliding logs). Each dimension is
/// reserved at admission, settled on its own and corrected by its own headers (LocalPartition.TokenHeaders.cs). The
/// request budget, which the 429 probe also moves, lives in LocalPartition.Budgets.cs.
/// </summary>
internal sealed partial class LocalPartition
{
    private static readonly BudgetDimension[] WindowDimensions = [BudgetDimension.Tokens, BudgetDimension.InputTokens, BudgetDimension.OutputTokens];

    // Indexed by BudgetDimension; only the token dimensions are used.
    private readonly TokenBudget[] _tokenBudgets = new TokenBudget[WindowDimensions.Length + 1];
    private double _tokenBurstScale = 1;
    private DayWindow? _requestsPerDay;
    private DayWindow? _tokensPerDay;

    // Until the first headers (or answer) arrive, with PartitionLimits.AwaitFirstHeaders, one request goes alone.
    private volatile bool _firstHeadersPending = true;

    // Per-day budgets the provider's headers stated, per day.
    private double? _headerRequestsPerDay;
    private double? _headerTokensPerDay;

    /// <summary>The token budget of <paramref name="dimension"/> in force, per second; null when none.</summary>
    private double? TokenRate(BudgetDimension dimension) => _tokenBudgets[(int)dimension].Rate;

    /// <summary>The earliest instant every token-side budget allows <paramref name="cost"/>, from <paramref name="wake"/> on.</summary>
    private long TokenWakeTimeLocked(in BudgetCost cost, long wake, long now)
    {
        if (_firstHeadersPending && _limits.AwaitFirstHeaders && _limits.LearnBudgets && _inFlight > 0)
        {
            return long.MaxValue;
        }

        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            long amount = cost.For(dimension);
            if (amount > 0 && budget.Rate is not null)
            {
                budget.Bucket.Refill(now);
                wake = Later(wake, now, budget.Bucket.TimeUntil(amount, now));
            }
        }

        if (_requestsPerDay is not null)
        {
            wake = Later(wake, now, _requestsPerDay.TimeUntil(1, now, _time.TimestampFrequency));
        }

        if (_tokensPerDay is not null && cost.Tokens > 0)
        {
            wake = Later(wake, now, _tokensPerDay.TimeUntil(cost.Tokens, now, _time.TimestampFrequency));
        }

        return wake;
    }

    /// <summary>
    /// After a 429 that names no wait: whichever budget the upstream enforces is spent, so every token budget in force
    /// starts again from empty (the next request waits for its own cost to refill, not for a second's pause); on a new
    /// refusal event the bursts are halved too, since the upstream's are evidently smaller than ours.
    /// </summary>
    private void EmptyTokenBudgetsLocked(bool shrinkBursts, long now)
    {
        if (shrinkBursts)
        {
            _tokenBurstScale = Math.Max(MinBurstScale, _tokenBurstScale / 2);
        }

        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (budget.Rate is { } rate)
            {
                if (shrinkBursts)
                {
                    budget.Bucket.Reconfigure(rate, TokenCapacityLocked(dimension, rate), now);
                }

                budget.Bucket.Empty(now);
            }
        }
    }

    // Only the total has a configurable burst; input and output hold one second's worth, as providers refill them.
    // Each is halved by every 429 event that named no wait, never below one token.
    private double TokenCapacityLocked(BudgetDimension dimension, double perSecond) =>
        Math.Max(1, (dimension == BudgetDimension.Tokens ? _limits.TokenCapacityAt(perSecond) : Math.Max(1, perSecond)) * _tokenBurstScale);

    /// <summary>Reserves <paramref name="cost"/> from every token-side budget; returns the per-day token entry to settle, or -1.</summary>
    private long SpendTokensLocked(in BudgetCost cost, long now)
    {
        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            long amount = cost.For(dimension);
            if (amount > 0 && budget.Rate is not null)
            {
                budget.Bucket.Spend(amount);
            }
        }

        _requestsPerDay?.Spend(1, now);
        return _tokensPerDay is not null && cost.Tokens > 0 ? _tokensPerDay.Spend(cost.Tokens, now) : -1;
    }

    /// <summary>Called by <see cref="GateLease"/>: charges (more than reserved) or refunds (less) one token dimension.</summary>
    internal void Settle(BudgetDimension dimension, long actual, long reserved, long dayEntry)
    {
        if (dimension == BudgetDimension.Tokens)
        {
            _metrics.TokensSettled.Add(actual, _tag);
        }

        long delta = actual - reserved;
        if (delta == 0)
        {
            return;
        }

        Effects effects = default;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (budget.Rate is not null)
            {
                budget.Bucket.Refill(now);
                budget.Bucket.Adjust(delta);
            }

            if (dimension == BudgetDimension.Tokens && dayEntry >= 0)
            {
                _tokensPerDay?.Adjust(dayEntry, delta);
            }

            AssertInvariantsLocked();
            if (delta < 0)
            {
                effects = ScheduleLocked(now);
            }
        }

        Apply(ref effects);
    }

    /// <summary>
    /// Puts in force the strictest of the configured and header-stated budget of every token-side dimension. Returns
    /// true when one changed.
    /// </summary>
    private bool ApplyTokenBudgetsLocked(long now)
    {
        if (!_limits.LearnBudgets)
        {
            for (int i = 0; i < _tokenBudgets.Length; i++)
            {
                _tokenBudgets[i].HeaderRate = null;
            }

            _headerRequestsPerDay = _headerTokensPerDay = null;
        }

        bool changed = false;
        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            long? configured = dimension switch
            {
                BudgetDimension.Tokens => _limits.TokensPerWindow,
                BudgetDimension.InputTokens => _limits.InputTokensPerWindow,
                _ => _limits.OutputTokensPerWindow,
            };
            (double? rate, budget.Source) = Strictest(configured is { } c ? _limits.PerSecond(c) : null, budget.HeaderRate, null, measured: false);
            if (budget.Rate == rate)
            {
                continue;
            }

            if (rate is { } perSecond)
            {
                double capacity = TokenCapacityLocked(dimension, perSecond);
                if (budget.Rate is null)
                {
                    budget.Bucket = new TokenBucket(perSecond, capacity, now, _time.TimestampFrequency);
                }
                else
                {
                    budget.Bucket.Reconfigure(perSecond, capacity, now);
                }
            }

            budget.Rate = rate;
            changed = true;
        }

        changed |= SetDay(ref _requestsPerDay, Min(_limits.RequestsPerDay, _headerRequestsPerDay));
        changed |= SetDay(ref _tokensPerDay, Min(_limits.TokensPerDay, _headerTokensPerDay));
        return changed;
    }

    private bool SetDay(ref DayWindow? window, double? limit)
    {
        if (window?.Limit == limit)
        {
            return false;
        }

        if (limit is not { } value)
        {
            window = null;
        }
        else if (window is null)
        {
            window = new DayWindow(value, ToTimestampTicks(PartitionLimits.Day));
        }
        else
        {
            window.Limit = value;
        }

        return true;
    }

    private static double? Min(long? configured, double? stated) =>
        configured is { } c ? (stated is { } s ? Math.Min(c, s) : c) : stated;

    /// <summary>The budgets in force, for the snapshot.</summary>
    private BudgetSnapshot[] TokenBudgetSnapshotsLocked(long now)
    {
        var list = new List<BudgetSnapshot>(WindowDimensions.Length + 2);
        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (budget.Rate is { } rate)
            {
                budget.Bucket.Refill(now);
                list.Add(new BudgetSnapshot(dimension, Math.Round(rate * 60, 6), TimeSpan.FromMinutes(1), budget.Bucket.Level, budget.Source));
            }
        }

        AddDay(list, BudgetDimension.RequestsPerDay, _requestsPerDay, _limits.RequestsPerDay, now);
        AddDay(list, BudgetDimension.TokensPerDay, _tokensPerDay, _limits.TokensPerDay, now);
        return [.. list];
    }

    private static void AddDay(List<BudgetSnapshot> list, BudgetDimension dimension, DayWindow? window, long? configured, long now)
    {
        if (window is not null)
        {
            var source = configured == window.Limit ? BudgetSource.Configured : BudgetSource.Headers;
            list.Add(new BudgetSnapshot(dimension, window.Limit, PartitionLimits.Day, window.Available(now), source));
        }
    }

    [Conditional("DEBUG")]
    private void AssertInvariantsLocked()
    {
        Debug.Assert(_inFlight >= 0, "in-flight count below zero");
        Debug.Assert(_queued >= 0, "queued count below zero");
        Debug.Assert(_requestRate is null || _requests.Level <= _requests.Capacity + 1e-6, "request level above capacity");
        foreach (var dimension in WindowDimensions)
        {
            Debug.Assert(
                _tokenBudgets[(int)dimension].Rate is null || _tokenBudgets[(int)dimension].Bucket.Level <= _tokenBudgets[(int)dimension].Bucket.Capacity + 1e-6,
                "token level above capacity");
        }

        Debug.Assert(_requestsPerDay is null || _requestsPerDay.Used >= -1e-6, "per-day requests below zero");
        Debug.Assert(_tokensPerDay is null || _tokensPerDay.Used >= -1e-6, "per-day tokens below zero");
    }

    /// <summary>One token dimension: its rate in force (null: none), where it comes from, what headers stated, and its bucket.</summary>
    private struct TokenBudget
    {
        public double? Rate;
        public BudgetSource Source;
        public double? HeaderRate;
        public TokenBucket Bucket;
    }
}
