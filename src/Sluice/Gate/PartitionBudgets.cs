using System.Diagnostics;
using Sluice.Adaptive;

namespace Sluice.Gate;

/// <summary>
/// The budget arbitration of one partition: which budget of each dimension is in force (configured, stated by the
/// provider's headers, learned from 429s: the strictest wins), when a request of a given cost may start under all of
/// them, what an admission reserves and what a settlement or the provider's view corrects.
/// </summary>
/// <remarks>
/// A pure policy: no lock, no timer, no clock. The partition (<see cref="LocalPartition"/>) holds its lock, passes
/// timestamps in (of a clock ticking <c>ticksPerSecond</c> times a second) and acts on the answers: wake times,
/// whether a budget was learned, the per-day entry to settle. The concurrency limit, the pause and the queue are
/// the partition's; the request budget the 429 probe learns is here, with the probe. What the provider's headers and
/// refusals change is in PartitionBudgets.Learning.cs.
/// </remarks>
internal sealed partial class PartitionBudgets
{
    // Providers state their budgets per minute (OpenAI RPM/TPM, Anthropic's per-minute limits).
    private const double ProviderWindowSeconds = 60;

    // A bucket's burst never shrinks below this share of the configured one (and never below one unit).
    private const double MinBurstScale = 1.0 / 64;

    // A stated or configured request budget gives way to the probe's only when the probe measured well below it.
    private const double ProbeOverrideRatio = 0.5;

    private static readonly BudgetDimension[] WindowDimensions = [BudgetDimension.Tokens, BudgetDimension.InputTokens, BudgetDimension.OutputTokens];

    private readonly long _ticksPerSecond;

    // Indexed by BudgetDimension; only the token dimensions are used.
    private readonly TokenBudget[] _tokenBudgets = new TokenBudget[WindowDimensions.Length + 1];

    private PartitionLimits _limits = null!;

    // The request budget in force, per second, whatever its source; null: none.
    private double? _requestRate;
    private TokenBucket _requests;
    private BudgetSource _requestSource;
    private double _requestBurstScale = 1;
    private double? _headerRequestsPerSecond;

    private double _tokenBurstScale = 1;
    private DayWindow? _requestsPerDay;
    private DayWindow? _tokensPerDay;

    // Per-day budgets the provider's headers stated, per day.
    private double? _headerRequestsPerDay;
    private double? _headerTokensPerDay;

    public PartitionBudgets(long ticksPerSecond) => _ticksPerSecond = ticksPerSecond;

    /// <summary>The probe that learns a request rate from 429s; null unless <see cref="PartitionLimits.LearnBudgets"/>.</summary>
    public RateProbe? Probe { get; private set; }

    /// <summary>The request budget in force, per second; null when none.</summary>
    public double? RequestRate => _requestRate;

    /// <summary>Where <see cref="RequestRate"/> comes from.</summary>
    public BudgetSource RequestSource => _requestSource;

    /// <summary>The token budget of <paramref name="dimension"/> in force, per second; null when none.</summary>
    public double? TokenRate(BudgetDimension dimension) => _tokenBudgets[(int)dimension].Rate;

    /// <summary>Takes new limits and puts in force what follows from them; returns true when a budget changed.</summary>
    public bool Configure(PartitionLimits limits, long now)
    {
        _limits = limits;
        if (!limits.LearnBudgets)
        {
            Probe = null;
            _headerRequestsPerSecond = null;
        }
        else
        {
            Probe ??= new RateProbe(_ticksPerSecond);
        }

        return Apply(now);
    }

    /// <summary>
    /// Puts in force the strictest of what is known about each budget: configured, stated by headers, learned from
    /// 429s. Returns true when a budget changed.
    /// </summary>
    public bool Apply(long now)
    {
        double? configuredRequests = _limits.RequestsPerWindow is { } r ? _limits.PerSecond(r) : null;
        double? probed = Probe?.RatePerSecond(now);
        (double? requests, _requestSource) = Strictest(configuredRequests, _headerRequestsPerSecond, probed, measured: ProbeMeasured);
        bool changed = SetRequestRate(requests, now);
        changed |= ApplyTokenBudgets(now);
        return changed;
    }

    /// <summary>Moves the request budget along the probe's curve, which changes with time, not only with events.</summary>
    public void FollowProbe(long now)
    {
        if (Probe is { HasRate: true })
        {
            Apply(now);
        }
    }

    /// <summary>
    /// The earliest instant, from <paramref name="wake"/> on, every budget allows a request costing
    /// <paramref name="cost"/>; <see cref="long.MaxValue"/> when none will without a change. With
    /// <paramref name="keepReserve"/>, the request budget must also keep one request in reserve after it (when its
    /// bucket holds two or more): room for a tenant that arrives idle beside a backlog (LocalPartition.Tenants.cs).
    /// </summary>
    public long WakeTime(in BudgetCost cost, long wake, long now, bool keepReserve = false)
    {
        if (_requestRate is not null)
        {
            _requests.Refill(now);
            double requests = keepReserve && _requests.Capacity >= 2 ? 2 : 1;
            wake = Later(wake, now, _requests.TimeUntil(requests, now));
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
            wake = Later(wake, now, _requestsPerDay.TimeUntil(1, now, _ticksPerSecond));
        }

        if (_tokensPerDay is not null && cost.Tokens > 0)
        {
            wake = Later(wake, now, _tokensPerDay.TimeUntil(cost.Tokens, now, _ticksPerSecond));
        }

        return wake;
    }

    /// <summary>Reserves one request and <paramref name="cost"/> from every budget; returns the per-day token entry to settle, or -1.</summary>
    public long Spend(in BudgetCost cost, long now)
    {
        if (_requestRate is not null)
        {
            _requests.Spend(1);
        }

        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            long amount = cost.For(dimension);
            if (amount > 0 && budget.Rate is not null)
            {
                budget.Bucket.Spend(amount);
            }
        }

        Probe?.Started(now);
        SpendShares(cost, now);
        _requestsPerDay?.Spend(1, now);
        return _tokensPerDay is not null && cost.Tokens > 0 ? _tokensPerDay.Spend(cost.Tokens, now) : -1;
    }

    /// <summary>Charges (<paramref name="delta"/> above zero) or refunds (below) one token dimension of an admission.</summary>
    public void Settle(BudgetDimension dimension, long delta, long dayEntry, long now)
    {
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
    }

    /// <summary>Every budget in force at <paramref name="now"/>, in <see cref="BudgetDimension"/> order, with what the request and token budgets hold.</summary>
    public BudgetSnapshot[] Snapshot(long now, out double? requestsAvailable, out double? tokensAvailable)
    {
        var list = new List<BudgetSnapshot>(WindowDimensions.Length + 3);
        requestsAvailable = null;
        if (_requestRate is { } requestRate)
        {
            _requests.Refill(now);
            requestsAvailable = _requests.Level;
            list.Add(new BudgetSnapshot(BudgetDimension.Requests, PerMinute(requestRate), TimeSpan.FromMinutes(1), _requests.Level, _requestSource));
        }

        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            if (budget.Rate is { } rate)
            {
                budget.Bucket.Refill(now);
                list.Add(new BudgetSnapshot(dimension, PerMinute(rate), TimeSpan.FromMinutes(1), budget.Bucket.Level, budget.Source));
            }
        }

        tokensAvailable = TokenRate(BudgetDimension.Tokens) is null ? null : _tokenBudgets[(int)BudgetDimension.Tokens].Bucket.Level;
        AddDay(list, BudgetDimension.RequestsPerDay, _requestsPerDay, _limits.RequestsPerDay, now);
        AddDay(list, BudgetDimension.TokensPerDay, _tokensPerDay, _limits.TokensPerDay, now);
        return [.. list];
    }

    /// <summary>Where the token budget in force comes from.</summary>
    public BudgetSource TokenSource => _tokenBudgets[(int)BudgetDimension.Tokens].Source;

    // Rates are kept per second; a budget stated per minute comes back whole, not as 500.00000000000006.
    public static double PerMinute(double perSecond) => Math.Round(perSecond * 60, 6);

    // Stryker disable all : debug-only invariant checks; the Release build that mutation runs test compiles them away.
    /// <summary>Checks, in debug builds, that every budget holds no more than its capacity and every log no less than nothing.</summary>
    [Conditional("DEBUG")]
    public void AssertInvariants()
    {
        Debug.Assert(_requestRate is null || _requests.Level <= _requests.Capacity + 1e-6, "request level above capacity");
        Debug.Assert(_requestRate is null || _requests.Capacity >= 1, "request capacity below one request");
        foreach (var dimension in WindowDimensions)
        {
            ref var budget = ref _tokenBudgets[(int)dimension];
            Debug.Assert(budget.Rate is null || budget.Bucket.Level <= budget.Bucket.Capacity + 1e-6, "token level above capacity");
            Debug.Assert(budget.Rate is null || !double.IsNaN(budget.Bucket.Level), "token level not a number");
        }

        Debug.Assert(_requestsPerDay is null || _requestsPerDay.Used >= -1e-6, "per-day requests below zero");
        Debug.Assert(_tokensPerDay is null || _tokensPerDay.Used >= -1e-6, "per-day tokens below zero");
    }

    // Stryker restore all

    /// <summary>The later of <paramref name="wake"/> and <paramref name="now"/> plus <paramref name="wait"/>, where never stays never.</summary>
    private long Later(long wake, long now, TimeSpan wait) =>
        wait == TimeSpan.MaxValue || wake == long.MaxValue ? long.MaxValue : Math.Max(wake, now + Timestamps.FromTimeSpan(wait, _ticksPerSecond));

    private bool SetRequestRate(double? rate, long now)
    {
        if (_requestRate == rate)
        {
            return false;
        }

        if (rate is { } perSecond)
        {
            double shared = SharedRequestRate(perSecond);
            double capacity = RequestCapacity(shared);
            if (_requestRate is null)
            {
                _requests = new TokenBucket(shared, capacity, now, _ticksPerSecond);
            }
            else
            {
                _requests.Reconfigure(shared, capacity, now);
            }
        }

        _requestRate = rate;
        return true;
    }

    /// <summary>
    /// Puts in force the strictest of the configured and header-stated budget of every token-side dimension. Returns
    /// true when one changed.
    /// </summary>
    private bool ApplyTokenBudgets(long now)
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
                double shared = SharedTokenRate(dimension, perSecond);
                double capacity = TokenCapacity(dimension, shared);
                if (budget.Rate is null)
                {
                    budget.Bucket = new TokenBucket(shared, capacity, now, _ticksPerSecond);
                }
                else
                {
                    budget.Bucket.Reconfigure(shared, capacity, now);
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
            window = new DayWindow(value, Timestamps.FromTimeSpan(PartitionLimits.Day, _ticksPerSecond));
        }
        else
        {
            window.Limit = value;
        }

        return true;
    }

    private double RequestCapacity(double perSecond) => Math.Max(1, Math.Floor(_limits.RequestCapacityAt(perSecond) * _requestBurstScale));

    // Only the total has a configurable burst; input and output hold one second's worth, as providers refill them.
    // Each is halved by every 429 event that named no wait, never below one token.
    private double TokenCapacity(BudgetDimension dimension, double perSecond) =>
        Math.Max(1, (dimension == BudgetDimension.Tokens ? _limits.TokenCapacityAt(perSecond) : Math.Max(1, perSecond)) * _tokenBurstScale);

    private static double? Min(long? configured, double? stated) =>
        configured is { } c ? (stated is { } s ? Math.Min(c, s) : c) : stated;

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

    private static void AddDay(List<BudgetSnapshot> list, BudgetDimension dimension, DayWindow? window, long? configured, long now)
    {
        if (window is not null)
        {
            var source = configured == window.Limit ? BudgetSource.Configured : BudgetSource.Headers;
            list.Add(new BudgetSnapshot(dimension, window.Limit, PartitionLimits.Day, window.Available(now), source));
        }
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
