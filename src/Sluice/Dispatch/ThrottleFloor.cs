namespace Sluice.Dispatch;

/// <summary>
/// The shortest pause a partition takes after a 429, whatever wait the answer states. A provider's stated wait is
/// honoured when it is longer; a stated wait of zero, a negative one or an HTTP date already past would otherwise send
/// the next try at once, and an upstream answering nothing but such 429s would be asked again as fast as it answers
/// (docs/dispatcher.md, "Throttles"). The floor is <see cref="Base"/> after the first 429, doubling with each further
/// 429 with no success in between, up to <see cref="Cap"/>: the same shape the gate gives a 429 that states no wait,
/// so a stated zero earns nothing a silent 429 does not. A success resets it.
/// </summary>
/// <remarks>
/// Many tries in flight at once are refused together by one event at the provider: a 429 counts as a further one only
/// when its try was admitted after the last 429 counted, so a burst of refusals raises the floor by one step, not by
/// the concurrency.
/// </remarks>
internal sealed class ThrottleFloor
{
    /// <summary>The floor after the first 429: short enough to cost a real limiter nothing, long enough to stop a spin.</summary>
    public static readonly TimeSpan Base = TimeSpan.FromMilliseconds(50);

    /// <summary>The highest floor: past any provider's one-minute window, so the next try meets a fresh one.</summary>
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    private readonly object _lock = new();
    private int _streak;
    private long _lastCountedAt = long.MinValue;

    /// <summary>The 429s counted since the last success.</summary>
    public int Streak
    {
        get
        {
            lock (_lock)
            {
                return _streak;
            }
        }
    }

    /// <summary>Counts a 429 to a try admitted at <paramref name="admittedAt"/> and returns the floor for the pause it causes.</summary>
    /// <param name="admittedAt">The try's admission, in the gate's timestamps.</param>
    /// <param name="now">Now, in the same timestamps.</param>
    public TimeSpan Throttled(long admittedAt, long now)
    {
        lock (_lock)
        {
            if (admittedAt > _lastCountedAt)
            {
                _streak = _streak == int.MaxValue ? _streak : _streak + 1;
                _lastCountedAt = now;
            }

            return FloorFor(_streak);
        }
    }

    /// <summary>A try succeeded: the provider admits again, and the floor starts over.</summary>
    public void Succeeded()
    {
        lock (_lock)
        {
            _streak = 0;
        }
    }

    /// <summary>The floor after <paramref name="streak"/> 429s in a row: <c>min(Cap, Base·2^(streak−1))</c>, zero for none.</summary>
    public static TimeSpan FloorFor(int streak)
    {
        if (streak <= 0)
        {
            return TimeSpan.Zero;
        }

        // 2^20 times the base is far past the cap: the exponent is clamped so the arithmetic never overflows.
        double ticks = Base.Ticks * Math.Pow(2, Math.Min(streak - 1, 20));
        return ticks >= Cap.Ticks ? Cap : TimeSpan.FromTicks((long)ticks);
    }
}
