namespace Sluice.Dispatch;

/// <summary>
/// The recent latencies of one partition's successful tries, from which the dispatcher learns how long a try
/// normally takes: a ring of the last <see cref="Capacity"/> samples, so memory is bounded and an upstream that
/// slows down (or speeds up) is followed within a few hundred answers. Failures are not sampled: a 500 that comes
/// back at once or a hang says nothing about how long a good answer takes.
/// </summary>
internal sealed class LatencyTracker
{
    /// <summary>Samples kept: enough for a stable 99th percentile, few enough to sort in microseconds.</summary>
    public const int Capacity = 256;

    /// <summary>Fewer samples than this teach nothing: the first answers of a run may be unrepresentative.</summary>
    public const int MinSamples = 20;

    // A sorted copy is cached and refreshed after this many new samples, so most readers do not sort.
    private const int ResortEvery = 16;

    private readonly object _lock = new();
    private readonly long[] _ring = new long[Capacity];
    private long[] _sorted = [];
    private int _count;
    private int _next;
    private int _sinceSort;

    /// <summary>Records one successful try's duration.</summary>
    public void Record(TimeSpan latency)
    {
        if (latency < TimeSpan.Zero)
        {
            return;
        }

        lock (_lock)
        {
            _ring[_next] = latency.Ticks;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
            _sinceSort++;
        }
    }

    /// <summary>The <paramref name="quantile"/> of the recent latencies, or null before <see cref="MinSamples"/> are known.</summary>
    public TimeSpan? Quantile(double quantile)
    {
        long[] sorted;
        lock (_lock)
        {
            if (_count < MinSamples)
            {
                return null;
            }

            if (_sinceSort >= ResortEvery || _sorted.Length != _count)
            {
                var copy = _ring.AsSpan(0, _count).ToArray();
                Array.Sort(copy);
                _sorted = copy;
                _sinceSort = 0;
            }

            sorted = _sorted;
        }

        // Nearest rank: the smallest sample with at least the quantile's share of samples at or below it.
        int rank = (int)Math.Ceiling(Math.Clamp(quantile, 0, 1) * sorted.Length);
        return TimeSpan.FromTicks(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)]);
    }
}
