using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>
/// The provider's view of the token-side budgets: each dimension's headers state its limit (adopted unless a lower
/// one is configured) and what remains until a reset, and the end of an answer's headers ends the first-headers wait.
/// </summary>
internal sealed partial class LocalPartition
{
    public override void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit = null) =>
        ObserveBudget(dimension, remaining, resetAt, limit, countedSince: null);

    internal override void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, GateLease lease) =>
        ObserveBudget(dimension, remaining, resetAt, limit, lease.IsAdmitted ? lease.AdmittedAt : null);

    private void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, long? countedSince)
    {
        switch (dimension)
        {
            case BudgetDimension.Requests:
                ObserveRequests(remaining, resetAt, limit);
                break;
            case BudgetDimension.Tokens:
                // The total-token bucket is large against one request, so a count a latency old costs little; crediting
                // the refill since admission let through requests the provider, counting a little later, refused
                // (token-bound benchmark: 1 429 in 600, against none).
                ObserveWindowTokens(dimension, remaining, resetAt, limit);
                break;
            case BudgetDimension.InputTokens or BudgetDimension.OutputTokens:
                // An output cap is often most of the second's worth the bucket holds: a count a latency old would throw
                // that latency's refill away at every answer (Anthropic through the proxy: 0.92 instead of 0.98).
                ObserveWindowTokens(dimension, remaining, resetAt, limit, countedSince);
                break;
            case BudgetDimension.RequestsPerDay or BudgetDimension.TokensPerDay:
                ObserveDay(dimension, remaining, resetAt, limit);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Unknown budget dimension.");
        }
    }

    /// <summary>An answer's headers were all observed: the budgets they state are known, so the partition stops holding back.</summary>
    internal override void HeadersObserved()
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

    private void ObserveWindowTokens(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, long? countedSince = null)
    {
        if (remaining < 0 || limit <= 0)
        {
            return;
        }

        TimeSpan untilReset = resetAt - _time.GetUtcNow();
        Effects effects = default;
        bool learned = false;
        double? perMinute;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (_limits.LearnBudgets && limit is { } stated && budget.HeaderRate != stated / ProviderWindowSeconds)
            {
                budget.HeaderRate = stated / ProviderWindowSeconds;
                learned = ApplyTokenBudgetsLocked(now);
            }

            if (budget.Rate is { } rate)
            {
                // The provider's count of what is left is in its own units; without a stated limit, ours stands in.
                budget.Bucket.Observe(remaining, limit ?? (rate * ProviderWindowSeconds), now + ToTimestampTicks(untilReset), now, countedSince);
            }

            // Observing only ever makes admission stricter; a learned budget may have loosened it.
            if (learned)
            {
                effects = ScheduleLocked(now);
            }

            perMinute = budget.Rate * 60;
        }

        if (learned)
        {
            Apply(ref effects);
            Log.BudgetLearned(_logger, Key, dimension, perMinute);
        }
    }

    private void ObserveDay(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit)
    {
        if (remaining < 0 || limit <= 0)
        {
            return;
        }

        TimeSpan untilReset = resetAt - _time.GetUtcNow();
        Effects effects = default;
        bool learned = false;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            ref double? known = ref dimension == BudgetDimension.RequestsPerDay ? ref _headerRequestsPerDay : ref _headerTokensPerDay;
            if (_limits.LearnBudgets && limit is { } stated && known != stated)
            {
                known = stated;
                learned = ApplyTokenBudgetsLocked(now);
            }

            var window = dimension == BudgetDimension.RequestsPerDay ? _requestsPerDay : _tokensPerDay;
            window?.Observe(remaining, now + ToTimestampTicks(untilReset), now);
            if (learned)
            {
                effects = ScheduleLocked(now);
            }
        }

        Apply(ref effects);
        if (learned)
        {
            Log.BudgetLearned(_logger, Key, dimension, limit);
        }
    }
}
