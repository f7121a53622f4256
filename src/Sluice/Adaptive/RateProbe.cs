namespace Sluice.Adaptive;

/// <summary>
/// A request rate learned from 429s alone, for upstreams that send no rate-limit headers (a gateway, nginx's
/// <c>limit_req</c> in front of a model server). Pure: timestamps come in, a rate comes out; no clock, no lock.
/// </summary>
/// <remarks>
/// <para>Until the first 429 the rate is unknown and nothing is paced (the concurrency limit still applies). On a 429
/// the probe measures the rate the upstream accepted over the last <see cref="MeasureWindow"/> — requests started
/// minus those refused — and takes it as the ceiling <c>W</c>, the rate that drew the refusal.</para>
/// <para>Then the rate follows a cubic curve in the time <c>t</c> since that cut, the shape of TCP CUBIC:
/// <c>rate(t) = W · (1 + C·(t − K)³)</c>, where <c>K</c> = <see cref="RecoveryTime"/> and
/// <c>C = (1 − β) / K³</c> so that <c>rate(0) = β·W</c> with β = <see cref="BackoffRatio"/>. The curve climbs fast
/// when far below <c>W</c>, flattens just under it (so a stable limit is held, not oscillated around), and only
/// then probes above it, slowly at first and faster the longer no 429 comes — which is how a raised limit is found.
/// Each further 429 from a request started after the cut starts a new curve from the rate then in force.</para>
/// </remarks>
internal sealed class RateProbe
{
    /// <summary>The share of the ceiling kept on a cut.</summary>
    public const double BackoffRatio = 0.9;

    /// <summary>The least rate the probe settles on, per second.</summary>
    public const double MinRatePerSecond = 0.05;

    /// <summary>
    /// The fewest accepted requests in the window that make a measurement: a 429 after two or three requests says the
    /// upstream's burst is small, not what its rate is, and the Retry-After pause answers it.
    /// </summary>
    public const int MinAccepted = 4;

    /// <summary>The most the curve may climb above its ceiling, as a multiple; past that the limit binds nothing anyway.</summary>
    public const double MaxGrowth = 10;

    /// <summary>How long after a cut the rate is back at the ceiling (the curve's plateau).</summary>
    public static readonly TimeSpan RecoveryTime = TimeSpan.FromSeconds(6);

    /// <summary>How far back the accepted rate is measured when a 429 arrives.</summary>
    public static readonly TimeSpan MeasureWindow = TimeSpan.FromSeconds(2);

    // The window is counted in 50 slots; the ring holds more, since a window's two ends fall inside slots.
    private const int SlotsPerWindow = 50;
    private const int Slots = 64;

    private readonly double _ticksPerSecond;
    private readonly long _slotTicks;
    private readonly long[] _slotIds = new long[Slots];
    private readonly int[] _started = new int[Slots];
    private readonly int[] _refused = new int[Slots];
    private long _firstStart = long.MinValue;
    private double? _ceiling;
    private long _cutAt = long.MinValue;

    /// <summary>Creates a probe for timestamps that advance <paramref name="ticksPerSecond"/> per second.</summary>
    public RateProbe(long ticksPerSecond)
    {
        _ticksPerSecond = ticksPerSecond;
        _slotTicks = Math.Max(1, (long)(ticksPerSecond * MeasureWindow.TotalSeconds / SlotsPerWindow));
        Array.Fill(_slotIds, long.MinValue);
    }

    /// <summary>True once a 429 has set a rate.</summary>
    public bool HasRate => _ceiling is not null;

    /// <summary>The rate that drew the last cut, per second; <see langword="null"/> before the first 429.</summary>
    public double? Ceiling => _ceiling;

    /// <summary>The rate to pace at, per second, at <paramref name="now"/>; <see langword="null"/> before the first 429.</summary>
    public double? RatePerSecond(long now)
    {
        if (_ceiling is not { } ceiling)
        {
            return null;
        }

        double k = RecoveryTime.TotalSeconds;
        double c = (1 - BackoffRatio) / (k * k * k);
        double t = Math.Max(0, (now - _cutAt) / _ticksPerSecond) - k;
        return Math.Clamp(ceiling * (1 + (c * t * t * t)), MinRatePerSecond, ceiling * MaxGrowth);
    }

    /// <summary>Counts a request started (admitted) at <paramref name="now"/>.</summary>
    public void Started(long now)
    {
        if (_firstStart == long.MinValue)
        {
            _firstStart = now;
        }

        _started[Slot(now)]++;
    }

    /// <summary>
    /// Takes a 429 for a request started at <paramref name="startedAt"/>; returns true when it cut the rate (false
    /// when the request started before the last cut, so the cut already answered it).
    /// </summary>
    public bool Throttled(long startedAt, long now)
    {
        if (startedAt >= now - (long)(_ticksPerSecond * MeasureWindow.TotalSeconds))
        {
            _refused[Slot(startedAt)]++;
        }

        if (startedAt <= _cutAt)
        {
            return false;
        }

        if (AcceptedRate(now) is not { } accepted)
        {
            return false;
        }

        double ceiling = RatePerSecond(now) is { } current ? Math.Min(current, accepted) : accepted;
        _ceiling = Math.Max(MinRatePerSecond, ceiling);
        _cutAt = now;
        return true;
    }

    /// <summary>
    /// Requests started and not refused, per second, over the last window (or since the first start, if sooner, but
    /// at least a second); <see langword="null"/> when too few were accepted to tell.
    /// </summary>
    private double? AcceptedRate(long now)
    {
        long windowTicks = (long)(_ticksPerSecond * MeasureWindow.TotalSeconds);
        long from = Math.Max(now - windowTicks, _firstStart);
        double seconds = Math.Max((now - from) / _ticksPerSecond, 1);
        long firstSlot = from / _slotTicks, lastSlot = now / _slotTicks;
        long accepted = 0;
        for (long id = firstSlot; id <= lastSlot; id++)
        {
            int index = Index(id);
            if (_slotIds[index] == id)
            {
                accepted += _started[index] - _refused[index];
            }
        }

        return accepted < MinAccepted ? null : accepted / seconds;
    }

    private int Slot(long at)
    {
        long id = at / _slotTicks;
        int index = Index(id);
        if (_slotIds[index] != id)
        {
            _slotIds[index] = id;
            _started[index] = 0;
            _refused[index] = 0;
        }

        return index;
    }

    private static int Index(long slotId) => (int)(((slotId % Slots) + Slots) % Slots);
}
