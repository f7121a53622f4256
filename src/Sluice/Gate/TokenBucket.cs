namespace Sluice.Gate;

/// <summary>
/// Continuous-refill budget arithmetic: a level that grows at a steady rate up to a capacity and is spent by
/// admissions. Pure: it neither reads a clock nor locks; the partition passes timestamps in and holds the lock.
/// </summary>
/// <remarks>
/// Three rules make it fit LLM budgets:
/// <list type="bullet">
/// <item>a cost larger than the capacity is admitted once the bucket is full, leaving the level negative, so a
/// single large request is never starved (providers accept any request up to their per-minute limit);</item>
/// <item>settlement may drive the level below zero after an under-estimate, and then nothing is admitted until
/// refill brings it back;</item>
/// <item>the provider's view (<see cref="Observe"/>) can lower the level and, until its reset instant, slow the
/// refill to the rate the provider implies, but never raise either above the configured budget.</item>
/// </list>
/// </remarks>
internal struct TokenBucket
{
    // Refill arithmetic is floating point; a level a hair short of a whole unit counts as the unit.
    private const double Epsilon = 1e-9;

    private readonly double _ticksPerSecond;
    private double _ratePerSecond;
    private double _capacity;
    private double _level;
    private long _updatedAt;

    // A slower refill rate implied by the provider's own headers, in force until _serverRateUntil.
    private double _serverRatePerSecond;
    private long _serverRateUntil;

    public TokenBucket(double ratePerSecond, double capacity, long now, long ticksPerSecond)
    {
        _ticksPerSecond = ticksPerSecond;
        _ratePerSecond = ratePerSecond;
        _capacity = capacity;
        _level = capacity;
        _updatedAt = now;
        _serverRateUntil = long.MinValue;
    }

    /// <summary>The budget available right now (may be negative after an under-estimate).</summary>
    public readonly double Level => _level;

    /// <summary>The most the bucket holds.</summary>
    public readonly double Capacity => _capacity;

    /// <summary>Brings the level up to date with refill since the last update.</summary>
    public void Refill(long now)
    {
        if (now <= _updatedAt)
        {
            return;
        }

        double gained;
        if (_serverRateUntil > _updatedAt)
        {
            // Piecewise: the provider's slower rate until its reset instant, then ours.
            long slowEnd = Math.Min(now, _serverRateUntil);
            gained = Seconds(slowEnd - _updatedAt) * _serverRatePerSecond;
            if (now > slowEnd)
            {
                gained += Seconds(now - slowEnd) * _ratePerSecond;
            }
        }
        else
        {
            gained = Seconds(now - _updatedAt) * _ratePerSecond;
        }

        _level = Math.Min(_capacity, _level + gained);
        _updatedAt = now;
    }

    /// <summary>Spends <paramref name="cost"/>; the caller has checked <see cref="TimeUntil"/>.</summary>
    public void Spend(double cost) => _level -= cost;

    /// <summary>
    /// Corrects an earlier spend by <paramref name="delta"/>: positive charges more (the level may go negative),
    /// negative refunds (never above capacity).
    /// </summary>
    public void Adjust(double delta) => _level = Math.Min(_capacity, _level - delta);

    /// <summary>
    /// How long until <paramref name="cost"/> can be spent, assuming nothing else is spent meanwhile
    /// (after <see cref="Refill"/> at <paramref name="now"/>). Zero when it can be spent now;
    /// <see cref="TimeSpan.MaxValue"/> when the bucket never refills.
    /// </summary>
    public readonly TimeSpan TimeUntil(double cost, long now)
    {
        double needed = Math.Min(cost, _capacity) - _level;
        if (needed <= Epsilon)
        {
            return TimeSpan.Zero;
        }

        double seconds = 0;
        if (_serverRateUntil > now)
        {
            double slowSeconds = Seconds(_serverRateUntil - now);
            double slowGain = slowSeconds * _serverRatePerSecond;
            if (slowGain >= needed)
            {
                return FromSeconds(needed / _serverRatePerSecond);
            }

            needed -= slowGain;
            seconds = slowSeconds;
        }

        if (_ratePerSecond <= 0)
        {
            return TimeSpan.MaxValue;
        }

        return FromSeconds(seconds + (needed / _ratePerSecond));
    }

    /// <summary>
    /// Applies the provider's view: it says <paramref name="remaining"/> is left of <paramref name="limit"/> and
    /// that its budget is whole again at <paramref name="resetAt"/>. Lowers the level to <paramref name="remaining"/>
    /// if that is less, and slows refill to the rate the provider implies until then if that is slower.
    /// </summary>
    /// <param name="remaining">What the provider says is left.</param>
    /// <param name="limit">The provider's budget per window.</param>
    /// <param name="resetAt">When the provider says its budget is whole again.</param>
    /// <param name="now">Now.</param>
    /// <param name="countedSince">
    /// The earliest instant the provider may have counted <paramref name="remaining"/> at (the request's admission):
    /// its budget has refilled since, so the level is lowered only to what it can hold now. Without it, now.
    /// </param>
    public void Observe(double remaining, double limit, long resetAt, long now, long? countedSince = null)
    {
        Refill(now);
        if (resetAt <= now || remaining < 0 || limit <= 0)
        {
            // A reset in the past means the provider's budget is whole again: nothing to lower.
            return;
        }

        double refilled = countedSince is { } since && since < now ? Seconds(now - since) * _ratePerSecond : 0;
        _level = Math.Min(_level, remaining + refilled);
        double impliedRate = Math.Max(0, limit - remaining) / Seconds(resetAt - now);
        if (impliedRate < _ratePerSecond)
        {
            _serverRatePerSecond = impliedRate;
            _serverRateUntil = resetAt;
        }
    }

    /// <summary>Spends whatever is left (a refusal says the provider's budget is empty now); a debt is kept.</summary>
    public void Empty(long now)
    {
        Refill(now);
        _level = Math.Min(_level, 0);
    }

    /// <summary>Changes the configured rate and capacity from <paramref name="now"/> on (the level is kept, capped).</summary>
    public void Reconfigure(double ratePerSecond, double capacity, long now)
    {
        Refill(now);
        _ratePerSecond = ratePerSecond;
        _capacity = capacity;
        _level = Math.Min(_level, capacity);
    }

    private readonly double Seconds(long ticks) => ticks / _ticksPerSecond;

    // Rounded up to whole ticks, forgiving a thousandth of a tick of floating-point noise (20.01 s is not 20.0100001 s).
    private static TimeSpan FromSeconds(double seconds) =>
        seconds >= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromTicks((long)Math.Ceiling((seconds * TimeSpan.TicksPerSecond) - 1e-3));
}
