namespace Sluice.Mock.Limits;

/// <summary>
/// A continuously refilling token bucket. Pure arithmetic over timestamps the caller reads from its
/// <see cref="TimeProvider"/>, so tests drive it without any timer.
/// </summary>
internal sealed class TokenBucket
{
    // Refill in floating point can land a hair under an exact amount; without this slack a client that waits
    // exactly the advertised time would be refused. The budget audit tolerates the same hair.
    private const double Slack = 1e-9;

    private readonly long _timestampFrequency;
    private long _updatedAt;

    /// <summary>Creates a full bucket that refills <paramref name="perMinute"/> a minute.</summary>
    /// <remarks>Rates stay per minute, as budgets are written, so that whole budgets give exact waits (12 s, not 12.000000001 s).</remarks>
    public TokenBucket(double capacity, double perMinute, long now, long timestampFrequency)
    {
        Capacity = capacity;
        PerMinute = perMinute;
        Level = capacity;
        _updatedAt = now;
        _timestampFrequency = timestampFrequency;
    }

    public double Capacity { get; private set; }

    public double PerMinute { get; private set; }

    /// <summary>What the bucket holds; negative while it repays an oversized request.</summary>
    public double Level { get; private set; }

    /// <summary>Whole units a client could take right now.</summary>
    public long Remaining => Level <= 0 ? 0 : (long)Math.Floor(Level + Slack);

    public void Refill(long now)
    {
        if (now <= _updatedAt)
        {
            return;
        }

        Level = Math.Min(Capacity, Level + ((now - _updatedAt) * PerMinute / (60.0 * _timestampFrequency)));
        _updatedAt = now;
    }

    /// <summary>
    /// Whether <paramref name="cost"/> can be taken now. A cost above the capacity could never be covered, so,
    /// like a provider that accepts any single request up to its per-minute limit, the bucket takes it only when
    /// full and goes into debt, which refill repays before anything else gets in.
    /// </summary>
    public bool CanTake(double cost) => Level + Slack >= Math.Min(cost, Capacity);

    public void Take(double cost) => Level -= cost;

    /// <summary>Gives back part of an earlier charge; the bucket never holds more than its capacity.</summary>
    public void Refund(double amount) => Level = Math.Min(Capacity, Level + amount);

    /// <summary>How long until <see cref="CanTake(double)"/> would be true, if nothing else is taken meanwhile.</summary>
    public TimeSpan TimeUntilAvailable(double cost) => TimeToRefill(Math.Min(cost, Capacity) - Level);

    /// <summary>How long until the bucket is full again: the provider's "reset" time.</summary>
    public TimeSpan TimeUntilFull() => TimeToRefill(Capacity - Level);

    /// <summary>Applies a new budget; what the bucket holds never exceeds its new capacity, and a debt stays a debt.</summary>
    public void Reconfigure(double capacity, double perMinute)
    {
        Capacity = capacity;
        PerMinute = perMinute;
        Level = Math.Min(Level, capacity);
    }

    // Rounded up to the next tick, so waiting the answer is always enough.
    private TimeSpan TimeToRefill(double amount) =>
        amount <= Slack ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling(amount * 60 * TimeSpan.TicksPerSecond / PerMinute));
}
