namespace Sluice.Mock.Stats;

/// <summary>
/// Checks one budget over sliding windows, with arithmetic of its own rather than the gate's buckets.
/// </summary>
/// <remarks>
/// For a bucket of capacity C refilling at r per second, what leaves it over any closed interval [s, e] is
/// what it held at s (at most C) minus what it holds at e plus the refill in between. It holds at least 0
/// after an ordinary admission, and C − x after an oversized one of cost x (taken only when full). So over a
/// window ending at an admission of cost x, at most C + ∫r + max(0, x − C) can have been admitted. With budget
/// changes in the window, r follows the budgets in force and C is the largest capacity among them. Each
/// admission whose trailing window exceeds that bound counts as one violation. A refund (Anthropic's output charge
/// adjusted to what was produced) comes back into the bucket, so it counts negatively from the instant it happens.
/// </remarks>
internal sealed class WindowAudit
{
    // Refill in floating point may overshoot by a hair; a genuine overrun is at least a whole token or request
    // beyond a bound that is exact up to far less than this.
    private const double Tolerance = 1e-3;

    private readonly long _window;
    private readonly long _timestampFrequency;
    private readonly Queue<(long At, long Amount)> _admitted = new();
    private readonly List<Segment> _segments = [];
    private long _sum;

    public WindowAudit(TimeSpan window, long timestampFrequency)
    {
        _window = (long)(window.TotalSeconds * timestampFrequency);
        _timestampFrequency = timestampFrequency;
    }

    public long Violations { get; private set; }

    /// <summary>Whether a budget is in force, and so whether admissions are checked.</summary>
    public bool IsActive => _segments.Count > 0;

    /// <summary>The budget from <paramref name="now"/> on; null when it becomes unlimited.</summary>
    public void Configure(long now, int? perMinute, TimeSpan burst)
    {
        if (perMinute is not int budget)
        {
            Clear();
            return;
        }

        // A budget that appears starts with a full bucket: nothing admitted while unlimited counts against it.
        if (!IsActive)
        {
            Clear();
        }

        _segments.Add(new Segment(now, budget / 60.0, Math.Max(1, budget * burst.TotalMinutes)));
    }

    /// <summary>Every bucket was refilled at <paramref name="now"/>: earlier admissions no longer constrain later ones.</summary>
    public void Restart(long now)
    {
        if (!IsActive)
        {
            return;
        }

        var current = _segments[^1];
        Clear();
        _segments.Add(current with { From = now });
    }

    public void Record(long at, long amount)
    {
        if (!IsActive)
        {
            return;
        }

        var capacityNow = _segments[^1].Capacity;
        _admitted.Enqueue((at, amount));
        _sum += amount;

        var windowStart = at - _window;
        while (_admitted.Peek().At < windowStart)
        {
            _sum -= _admitted.Dequeue().Amount;
        }

        // Keep the segment in force at the window's start and every later one.
        while (_segments.Count > 1 && _segments[1].From <= windowStart)
        {
            _segments.RemoveAt(0);
        }

        var start = Math.Max(windowStart, _segments[0].From);
        double refill = 0;
        double capacity = 0;
        for (var i = 0; i < _segments.Count; i++)
        {
            var from = Math.Max(_segments[i].From, start);
            var to = i + 1 < _segments.Count ? _segments[i + 1].From : at;
            if (to > from)
            {
                refill += (to - from) * _segments[i].PerSecond / _timestampFrequency;
            }

            capacity = Math.Max(capacity, _segments[i].Capacity);
        }

        var debt = Math.Max(0, amount - capacityNow);
        if (_sum > capacity + refill + debt + Tolerance)
        {
            Violations++;
        }
    }

    /// <summary>
    /// Part of a charge went back to the bucket at <paramref name="at"/>. What leaves the bucket over a window is then
    /// what was taken less what came back within it, so the refund counts negatively in the windows that hold it.
    /// </summary>
    public void Refund(long at, long amount)
    {
        if (IsActive)
        {
            _admitted.Enqueue((at, -amount));
            _sum -= amount;
        }
    }

    public void ResetViolations() => Violations = 0;

    private void Clear()
    {
        _admitted.Clear();
        _segments.Clear();
        _sum = 0;
    }

    private readonly record struct Segment(long From, double PerSecond, double Capacity);
}
