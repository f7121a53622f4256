namespace Sluice.Gate;

/// <summary>
/// A per-day budget kept as a sliding log: what was admitted in the trailing window, entry by entry, so that no window
/// of that length ever holds more than the limit. A token bucket would not do: refilling a whole day's budget
/// continuously lets up to twice the limit through in the first day. Pure: the partition passes timestamps in and
/// holds the lock.
/// </summary>
/// <remarks>
/// A settlement changes the entry it settles, where it was admitted, so a refund never lets a later window take more
/// than the limit. The provider's view (<see cref="Observe"/>) caps what may still be spent until its reset instant.
/// </remarks>
internal sealed class DayWindow
{
    // Sums are floating point only through settlement deltas; a hair over counts as within.
    private const double Epsilon = 1e-9;

    private readonly List<(long At, double Amount)> _entries = [];
    private readonly long _window;
    private int _head;
    private long _firstId;
    private double _used;

    // The provider's count of what is left (less what was spent since), in force until _serverUntil.
    private double _serverLeft;
    private long _serverUntil = long.MinValue;

    public DayWindow(double limit, long windowTicks)
    {
        Limit = limit;
        _window = windowTicks;
    }

    /// <summary>The most that may be admitted in any window.</summary>
    public double Limit { get; set; }

    /// <summary>What was admitted in the window ending now (after <see cref="Expire"/>).</summary>
    public double Used => _used;

    /// <summary>What may still be admitted now.</summary>
    public double Available(long now)
    {
        Expire(now);
        double left = Limit - _used;
        return now < _serverUntil ? Math.Min(left, _serverLeft) : left;
    }

    /// <summary>Forgets what left the window by <paramref name="now"/>.</summary>
    public void Expire(long now)
    {
        long cutoff = now - _window;
        while (_head < _entries.Count && _entries[_head].At <= cutoff)
        {
            _used -= _entries[_head].Amount;
            _head++;
        }

        if (_head == _entries.Count)
        {
            // Exact zero again, whatever rounding the settlements left behind.
            _used = 0;
        }

        if (_head > 64 && _head * 2 > _entries.Count)
        {
            _entries.RemoveRange(0, _head);
            _firstId += _head;
            _head = 0;
        }
    }

    /// <summary>
    /// How long until <paramref name="cost"/> fits, if nothing else is admitted meanwhile; zero when it fits now. A
    /// cost above the limit fits an empty window, so a single large request is never starved.
    /// </summary>
    public TimeSpan TimeUntil(double cost, long now, long ticksPerSecond)
    {
        Expire(now);
        long at = now;
        if (now < _serverUntil && Math.Min(cost, Limit) > _serverLeft + Epsilon)
        {
            at = _serverUntil;
        }

        double needed = Math.Min(cost, Limit);
        double used = _used;
        long cutoff = at - _window;
        int i = _head;
        while (i < _entries.Count && (used + needed > Limit + Epsilon || _entries[i].At <= cutoff))
        {
            if (_entries[i].At > cutoff)
            {
                at = _entries[i].At + _window;
                cutoff = at - _window;
            }

            used -= _entries[i].Amount;
            i++;
        }

        return at <= now ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling((at - now) * (double)TimeSpan.TicksPerSecond / ticksPerSecond));
    }

    /// <summary>Admits <paramref name="cost"/> at <paramref name="now"/> (the caller checked <see cref="TimeUntil"/>); returns its entry's id.</summary>
    public long Spend(double cost, long now)
    {
        _entries.Add((now, cost));
        _used += cost;
        _serverLeft -= cost;
        return _firstId + _entries.Count - 1;
    }

    /// <summary>Corrects the entry <paramref name="id"/> by <paramref name="delta"/> (positive charges more); nothing once it has left the window.</summary>
    public void Adjust(long id, double delta)
    {
        long index = id - _firstId;
        if (index < _head || index >= _entries.Count)
        {
            return;
        }

        var entry = _entries[(int)index];
        double amount = Math.Max(0, entry.Amount + delta);
        _used += amount - entry.Amount;
        _entries[(int)index] = (entry.At, amount);
        _serverLeft -= delta;
    }

    /// <summary>The provider says <paramref name="remaining"/> is left until <paramref name="resetAt"/>: spend no more than that until then.</summary>
    public void Observe(double remaining, long resetAt, long now)
    {
        if (resetAt <= now || remaining < 0)
        {
            return;
        }

        _serverLeft = now < _serverUntil ? Math.Min(_serverLeft, remaining) : remaining;
        _serverUntil = Math.Max(_serverUntil, resetAt);
    }
}
