using Sluice.Adaptive;

namespace Sluice.Gate;

/// <summary>
/// What the provider's headers and refusals change in the budgets: stated limits, what is left, learned rates, and the
/// share of each budget this process may spend among others on the same key (<see cref="PeerShare"/>).
/// </summary>
internal sealed partial class PartitionBudgets
{
    // The shares of the provider's request and token budgets this process spends, learned from the provider's counts;
    // made at the first admission when budgets are learned (each keeps a short history of what was spent when), indexed
    // like _tokenBudgets.
    private PeerShare? _requestShare;
    private readonly PeerShare?[] _tokenShares = new PeerShare?[WindowDimensions.Length + 1];
    private bool _shareChanged;

    /// <summary>
    /// True when the probe's measurement is evidence against a stated request budget. Not once the provider counts
    /// what remains: then a 429 rate measured here is this process's part among others on the key, which the share
    /// already accounts for, and taking it as the budget as well would count the others twice.
    /// </summary>
    private bool ProbeMeasured => Probe?.IsMeasured == true && _requestShare?.HasObserved != true;

    /// <summary>The share of the provider's request budget this process spends (1 until peers are seen).</summary>
    public double RequestShare => _requestShare?.Share ?? 1;

    /// <summary>The share of the provider's <paramref name="dimension"/> budget this process spends (1 until peers are seen).</summary>
    public double TokenShare(BudgetDimension dimension) => _tokenShares[(int)dimension]?.Share ?? 1;

    /// <summary>
    /// A 429 for the request admitted as number <paramref name="admission"/> at <paramref name="admittedAt"/>: the
    /// probe may learn a rate from it. The refusal says the provider's allowance is spent, so a new or cut learned
    /// budget starts empty, not with a burst. Returns the learned rate, per second, when the probe set one in force.
    /// </summary>
    public double? Throttled(long admission, long admittedAt, long now) => Throttled(admission, admittedAt, default, now);

    /// <summary>
    /// A 429 for the request admitted as number <paramref name="admission"/> at <paramref name="admittedAt"/>, which
    /// reserved <paramref name="cost"/>: the shares learned from the provider's counts are cut (<see cref="PeerShare.Throttled"/>)
    /// and the refused request is taken off what this process spent; then the probe may learn a rate from it.
    /// </summary>
    public double? Throttled(long admission, long admittedAt, in BudgetCost cost, long now)
    {
        ThrottleShares(cost, admittedAt, now);
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
                    double shared = SharedTokenRate(dimension, tokenRate);
                    budget.Bucket.Reconfigure(shared, TokenCapacity(dimension, shared), now);
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
            _requests.Reconfigure(SharedRequestRate(rate), RequestCapacity(SharedRequestRate(rate)), now);
        }

        _requests.Empty(now);
        return true;
    }

    /// <summary>
    /// The provider's view of the request budget: adopts a stated limit (per minute) unless a lower one is configured,
    /// and lowers what is left until <paramref name="resetAt"/>. Returns true when a budget in force changed.
    /// </summary>
    public bool ObserveRequests(long remaining, long? limit, long resetAt, long now, long? countedAt = null, bool resetToTheSecond = false)
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
            if (countedAt is { } at && ObserveShare(ref _requestShare, at, remaining, limit, rate, resetAt, now, resetToTheSecond))
            {
                _requests.Reconfigure(SharedRequestRate(rate), RequestCapacity(SharedRequestRate(rate)), now);
                _shareChanged = true;
            }
        }

        return learned;
    }

    /// <summary>
    /// The provider's view of a per-minute token budget (<see cref="BudgetDimension.Tokens"/>, input or output); see
    /// <see cref="ObserveRequests"/>. <paramref name="countedSince"/>: the earliest instant the count may be from.
    /// </summary>
    public bool ObserveTokens(BudgetDimension dimension, long remaining, long? limit, long resetAt, long now, long? countedSince, long? countedAt = null, bool resetToTheSecond = false)
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
            if (countedAt is { } at && ObserveShare(ref _tokenShares[(int)dimension], at, remaining, limit, rate, resetAt, now, resetToTheSecond))
            {
                double shared = SharedTokenRate(dimension, rate);
                budget.Bucket.Reconfigure(shared, TokenCapacity(dimension, shared), now);
                _shareChanged = true;
            }
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

    /// <summary>
    /// True when a share changed since the last call (the partition then reschedules its waiters: a bucket's refill
    /// changed). Not a learned budget: shares move with every count, too often to log.
    /// </summary>
    public bool TakeShareChange()
    {
        bool changed = _shareChanged;
        _shareChanged = false;
        return changed;
    }

    /// <summary>The refill rate of the request bucket: the budget in force, times this process's share of it.</summary>
    private double SharedRequestRate(double perSecond) => perSecond * RequestShare;

    /// <summary>The refill rate of a token bucket: the budget in force, times this process's share of it.</summary>
    private double SharedTokenRate(BudgetDimension dimension, double perSecond) => perSecond * TokenShare(dimension);

    /// <summary>
    /// Feeds one provider count to a share, made at the first count: the provider refills at its stated limit per
    /// minute (else at the budget in force), and is full again at <paramref name="resetAt"/>. Returns true when the
    /// share changed. <paramref name="resetToTheSecond"/>: the reset was written to the whole second (see <see cref="PeerShare"/>).
    /// </summary>
    private bool ObserveShare(ref PeerShare? share, long countedAt, long remaining, long? limit, double rate, long resetAt, long now, bool resetToTheSecond)
    {
        if (!_limits.LearnBudgets)
        {
            return false;
        }

        share ??= new PeerShare(_ticksPerSecond);
        double providerRate = limit is { } stated ? stated / ProviderWindowSeconds : rate;
        return share.Observe(countedAt, remaining, Math.Max(0, resetAt - now) / (double)_ticksPerSecond, providerRate, resetToTheSecond);
    }

    /// <summary>Counts an admission against the shares (made at the first, when budgets are learned).</summary>
    private void SpendShares(in BudgetCost cost, long now)
    {
        if (!_limits.LearnBudgets)
        {
            return;
        }

        (_requestShare ??= new PeerShare(_ticksPerSecond)).Spent(now, 1);
        foreach (var dimension in WindowDimensions)
        {
            long amount = cost.For(dimension);
            if (amount > 0)
            {
                (_tokenShares[(int)dimension] ??= new PeerShare(_ticksPerSecond)).Spent(now, amount);
            }
        }
    }

    /// <summary>A 429: what the refused request reserved was not spent at the provider, and each share is cut once per refusal event.</summary>
    private void ThrottleShares(in BudgetCost cost, long admittedAt, long now)
    {
        if (_requestShare is { } requests)
        {
            requests.Refused(now, 1);
            if (requests.Throttled(admittedAt, now) && _requestRate is { } rate)
            {
                _requests.Reconfigure(SharedRequestRate(rate), RequestCapacity(SharedRequestRate(rate)), now);
            }
        }

        foreach (var dimension in WindowDimensions)
        {
            if (_tokenShares[(int)dimension] is not { } share)
            {
                continue;
            }

            long amount = cost.For(dimension);
            if (amount > 0)
            {
                share.Refused(now, amount);
            }

            ref var budget = ref _tokenBudgets[(int)dimension];
            if (share.Throttled(admittedAt, now) && budget.Rate is { } tokenRate)
            {
                double shared = SharedTokenRate(dimension, tokenRate);
                budget.Bucket.Reconfigure(shared, TokenCapacity(dimension, shared), now);
            }
        }
    }
}
