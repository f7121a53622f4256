namespace Sluice.Mock.Limits;

/// <summary>
/// Admits or refuses each request against the request and token buckets and the concurrency limit, all
/// under one lock so that a decision, its headers and the audit see the same instant. Admission is
/// all-or-nothing: a refused request takes nothing from any budget.
/// </summary>
internal sealed class RateLimitGate
{
    // A concurrency limit frees up when some request finishes, which the mock cannot foresee; one second is
    // what it advertises, documented in docs/mock.md.
    private static readonly TimeSpan ConcurrencyRetryAfter = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly IAdmissionObserver _observer;
    private readonly TokenBucket?[] _buckets = new TokenBucket?[LimitDimensions.Count];
    private MockLimits _limits;
    private int _inFlight;

    public RateLimitGate(MockLimits limits, TimeProvider time, IAdmissionObserver observer)
    {
        _time = time;
        _observer = observer;
        _limits = limits;
        var now = time.GetTimestamp();
        foreach (var dimension in LimitDimensions.All)
        {
            _buckets[(int)dimension] = CreateBucket(limits, dimension, now);
        }

        observer.LimitsChanged(now, limits);
    }

    public MockLimits Limits
    {
        get
        {
            lock (_lock)
            {
                return _limits;
            }
        }
    }

    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>The capacity of a bucket: one burst's worth of the per-minute budget, and never less than one request.</summary>
    public static double Capacity(int perMinute, TimeSpan burst) => Math.Max(1, perMinute * burst.TotalMinutes);

    public Admission TryAdmit(RequestCost cost)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            RefillAll(now);

            // A request larger than a whole minute's budget can never be served: say so rather than ask the client to wait.
            foreach (var dimension in LimitDimensions.All)
            {
                if (_limits.PerMinute(dimension) is int perMinute && cost.For(dimension) is long amount && amount > perMinute)
                {
                    return new Admission(Refusal.TooLarge, dimension, amount, perMinute, TimeSpan.Zero, Snapshot());
                }
            }

            if (_limits.MaxConcurrency is int maxConcurrency && _inFlight >= maxConcurrency)
            {
                return new Admission(Refusal.Concurrency, LimitDimension.Requests, 1, maxConcurrency, ConcurrencyRetryAfter, Snapshot());
            }

            // The request needs every budget at once, so it must wait for the slowest of them.
            LimitDimension? refusedBy = null;
            var wait = TimeSpan.Zero;
            foreach (var dimension in LimitDimensions.All)
            {
                if (_buckets[(int)dimension] is { } bucket && cost.For(dimension) is long amount && !bucket.CanTake(amount))
                {
                    refusedBy ??= dimension;
                    var dimensionWait = bucket.TimeUntilAvailable(amount);
                    wait = dimensionWait > wait ? dimensionWait : wait;
                }
            }

            if (refusedBy is LimitDimension refused)
            {
                return new Admission(
                    Refusal.RateLimited, refused, cost.For(refused) ?? 0, _limits.PerMinute(refused) ?? 0, wait, Snapshot());
            }

            foreach (var dimension in LimitDimensions.All)
            {
                if (_buckets[(int)dimension] is { } bucket && cost.For(dimension) is long amount)
                {
                    bucket.Take(amount);
                }
            }

            _inFlight++;
            _observer.Admitted(now, cost);
            return new Admission(Refusal.None, LimitDimension.Requests, 1, 0, TimeSpan.Zero, Snapshot());
        }
    }

    /// <summary>Ends an admitted request, freeing its concurrency slot.</summary>
    public void Release() => Release(default, produced: null);

    /// <summary>
    /// Ends an admitted request, freeing its concurrency slot. For Anthropic's separate input and output budgets the
    /// output was charged at the request's cap when it was admitted; as Anthropic documents, the charge is adjusted to
    /// the <paramref name="produced"/> tokens when the answer ends, so the unused part of the cap goes back to the
    /// output and token buckets. An answer that produced nothing countable (a fault) keeps the whole charge.
    /// </summary>
    public void Release(RequestCost cost, long? produced)
    {
        lock (_lock)
        {
            _inFlight--;
            _observer.Released();
            if (cost.SeparateInputOutput && produced is { } output && output < cost.OutputTokens)
            {
                var now = _time.GetTimestamp();
                var unused = cost.OutputTokens - Math.Max(0, output);
                foreach (var dimension in (ReadOnlySpan<LimitDimension>)[LimitDimension.Tokens, LimitDimension.OutputTokens])
                {
                    if (_buckets[(int)dimension] is { } bucket)
                    {
                        bucket.Refill(now);
                        bucket.Refund(unused);
                        _observer.Refunded(now, dimension, unused);
                    }
                }
            }
        }
    }

    /// <summary>The budgets now, for answers that never reached the gate (bad input, auth, unknown paths).</summary>
    public RateLimitSnapshot Peek()
    {
        lock (_lock)
        {
            RefillAll(_time.GetTimestamp());
            return Snapshot();
        }
    }

    /// <summary>
    /// Applies new budgets from now on. Refill up to now runs at the old rates; a budget that appears starts
    /// full, one that changes keeps what it holds (at most its new capacity).
    /// </summary>
    public void SetLimits(MockLimits limits)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            RefillAll(now);
            foreach (var dimension in LimitDimensions.All)
            {
                var index = (int)dimension;
                if (limits.PerMinute(dimension) is not int perMinute)
                {
                    _buckets[index] = null;
                }
                else if (_buckets[index] is { } bucket)
                {
                    bucket.Reconfigure(Capacity(perMinute, limits.Burst), perMinute);
                }
                else
                {
                    _buckets[index] = CreateBucket(limits, dimension, now);
                }
            }

            _limits = limits;
            _observer.LimitsChanged(now, limits);
        }
    }

    /// <summary>Fills every bucket, as after a long quiet spell. Requests in flight stay in flight.</summary>
    public void Refill()
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            foreach (var dimension in LimitDimensions.All)
            {
                _buckets[(int)dimension] = CreateBucket(_limits, dimension, now);
            }

            _observer.BucketsRefilled(now);
        }
    }

    private TokenBucket? CreateBucket(MockLimits limits, LimitDimension dimension, long now) =>
        limits.PerMinute(dimension) is int perMinute
            ? new TokenBucket(Capacity(perMinute, limits.Burst), perMinute, now, _time.TimestampFrequency)
            : null;

    private void RefillAll(long now)
    {
        foreach (var bucket in _buckets)
        {
            bucket?.Refill(now);
        }
    }

    private RateLimitSnapshot Snapshot()
    {
        var states = new DimensionState?[LimitDimensions.Count];
        foreach (var dimension in LimitDimensions.All)
        {
            if (_buckets[(int)dimension] is { } bucket && _limits.PerMinute(dimension) is int perMinute)
            {
                states[(int)dimension] = new DimensionState(perMinute, bucket.Remaining, bucket.TimeUntilFull());
            }
        }

        return new RateLimitSnapshot(states, _time.GetUtcNow());
    }
}
