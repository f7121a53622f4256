namespace Sluice.Gate;

/// <summary>What the provider's headers and refusals change in the budgets: stated limits, what is left, learned rates.</summary>
internal sealed partial class PartitionBudgets
{
    /// <summary>
    /// A 429 for the request admitted as number <paramref name="admission"/> at <paramref name="admittedAt"/>: the
    /// probe may learn a rate from it. The refusal says the provider's allowance is spent, so a new or cut learned
    /// budget starts empty, not with a burst. Returns the learned rate, per second, when the probe set one in force.
    /// </summary>
    public double? Throttled(long admission, long admittedAt, long now)
    {
        if (Probe is null || !Probe.Throttled(admission, admittedAt, now))
        {
            return null;
        }

        Apply(now);
        if (_requestSource != BudgetSource.Throttling)
        {
            return null;
        }

        _requests.Empty(now);
        return _requestRate;
    }

    /// <summary>
    /// A 429 that states no wait: whichever budget the upstream enforces is spent, so every budget in force starts
    /// again from empty (the next request waits one interval of its own cost, not a fixed pause); on a new refusal
    /// event the bursts are halved too, since the upstream's are evidently smaller than ours. Returns true when a
    /// request budget paces the partition, which is then answer enough; false when the partition must pause.
    /// </summary>
    public bool AbsorbUnstatedThrottle(bool newEvent, long now)
    {
        if (newEvent)
        {
            _tokenBurstScale = Math.Max(MinBurstScale, _tokenBurstScale / 2);
        }

        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (budget.Rate is { } tokenRate)
            {
                if (newEvent)
                {
                    budget.Bucket.Reconfigure(tokenRate, TokenCapacity(dimension, tokenRate), now);
                }

                budget.Bucket.Empty(now);
            }
        }

        if (_requestRate is not { } rate)
        {
            return false;
        }

        if (newEvent)
        {
            _requestBurstScale = Math.Max(MinBurstScale, _requestBurstScale / 2);
            _requests.Reconfigure(rate, RequestCapacity(rate), now);
        }

        _requests.Empty(now);
        return true;
    }

    /// <summary>
    /// The provider's view of the request budget: adopts a stated limit (per minute) unless a lower one is configured,
    /// and lowers what is left until <paramref name="resetAt"/>. Returns true when a budget in force changed.
    /// </summary>
    public bool ObserveRequests(long remaining, long? limit, long resetAt, long now)
    {
        bool learned = false;
        if (_limits.LearnBudgets && limit is { } stated && _headerRequestsPerSecond != stated / ProviderWindowSeconds)
        {
            _headerRequestsPerSecond = stated / ProviderWindowSeconds;
            learned = Apply(now);
        }

        if (_requestRate is { } rate)
        {
            // The provider's count of what is left is in its own units; without a stated limit, ours stands in.
            _requests.Observe(remaining, limit ?? (rate * ProviderWindowSeconds), resetAt, now);
        }

        return learned;
    }

    /// <summary>
    /// The provider's view of a per-minute token budget (<see cref="BudgetDimension.Tokens"/>, input or output); see
    /// <see cref="ObserveRequests"/>. <paramref name="countedSince"/>: the earliest instant the count may be from.
    /// </summary>
    public bool ObserveTokens(BudgetDimension dimension, long remaining, long? limit, long resetAt, long now, long? countedSince)
    {
        bool learned = false;
        ref var budget = ref _tokenBudgets[(int)dimension];
        if (_limits.LearnBudgets && limit is { } stated && budget.HeaderRate != stated / ProviderWindowSeconds)
        {
            budget.HeaderRate = stated / ProviderWindowSeconds;
            learned = ApplyTokenBudgets(now);
        }

        if (budget.Rate is { } rate)
        {
            budget.Bucket.Observe(remaining, limit ?? (rate * ProviderWindowSeconds), resetAt, now, countedSince);
        }

        return learned;
    }

    /// <summary>The provider's view of a per-day budget; see <see cref="ObserveRequests"/>. A stated limit is per day.</summary>
    public bool ObserveDay(BudgetDimension dimension, long remaining, long? limit, long resetAt, long now)
    {
        bool learned = false;
        ref double? known = ref dimension == BudgetDimension.RequestsPerDay ? ref _headerRequestsPerDay : ref _headerTokensPerDay;
        if (_limits.LearnBudgets && limit is { } stated && known != stated)
        {
            known = stated;
            learned = ApplyTokenBudgets(now);
        }

        var window = dimension == BudgetDimension.RequestsPerDay ? _requestsPerDay : _tokensPerDay;
        window?.Observe(remaining, resetAt, now);
        return learned;
    }
}
