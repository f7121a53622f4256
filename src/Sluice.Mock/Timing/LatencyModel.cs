namespace Sluice.Mock.Timing;

/// <summary>How long answers take: a base latency with seeded uniform jitter, plus a time per output token.</summary>
internal sealed class LatencyModel
{
    private readonly Lock _lock = new();
    private readonly TimeSpan _latency;
    private readonly TimeSpan _jitter;
    private readonly int _seed;
    private Random _random;

    public LatencyModel(TimeSpan latency, TimeSpan jitter, TimeSpan perOutputToken, int seed)
    {
        _latency = latency;
        _jitter = jitter;
        PerOutputToken = perOutputToken;
        // Its own generator, so enabling jitter does not change which requests the fault draw hits.
        _seed = unchecked((seed * 31) + 17);
        _random = new Random(_seed);
    }

    public TimeSpan PerOutputToken { get; }

    /// <summary>The delay before the first byte of the next answer: latency ± jitter, never negative.</summary>
    public TimeSpan NextFirstByteDelay()
    {
        if (_jitter <= TimeSpan.Zero)
        {
            return _latency;
        }

        double draw;
        lock (_lock)
        {
            draw = _random.NextDouble();
        }

        var delay = _latency + (_jitter * ((draw * 2) - 1));
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }

    public void Reset()
    {
        lock (_lock)
        {
            _random = new Random(_seed);
        }
    }
}
