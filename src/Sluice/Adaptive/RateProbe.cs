namespace Sluice.Adaptive;

/// <summary>
/// A request rate learned from 429s alone, for upstreams that send no rate-limit headers (nginx's <c>limit_req</c>, a
/// gateway, a load balancer in front of a model server). Pure: timestamps and admission numbers come in, a rate comes
/// out; no clock, no lock.
/// </summary>
/// <remarks>
/// <para><b>What a 429 measures.</b> A refusal says the limiter was full when the refused request arrived. Between two
/// such <i>full moments</i>, a limiter kept busy lets through exactly its rate (a leaky or token bucket refills at its
/// rate; its burst was already spent at the first full moment), so the requests accepted between them, divided by the
/// time between them, is the limiter's rate — with no knowledge of its burst, window or algorithm. The first 429 only
/// marks a full moment; the next one at least <see cref="MinSpan"/> later measures. Counting from the first request
/// instead would count the limiter's burst as rate, and counting over a fixed window reaching back before the first
/// request (as an earlier version did) counted idle time as a slow limiter.</para>
/// <para><b>When Sluice itself was the bottleneck.</b> If Sluice's own concurrency limit held requests back between the
/// two full moments, the limiter was not kept busy and the count is only a lower bound: the rate is set there and
/// climbs fast (doubling every <see cref="RampDoublingTime"/>) until the next 429 measures properly. A measurement
/// taken while Sluice paced slower than the limit would also read low; so the ceiling is never set below the rate that
/// drew the refusal (within <see cref="OvershootAllowance"/> of the measurement), and the rate and the concurrency
/// limit cannot ratchet each other down.</para>
/// <para><b>After a measurement</b> the rate follows a cubic curve in the time <c>t</c> since the cut, the shape of
/// TCP CUBIC: <c>rate(t) = W · (1 + C·(t − K)³)</c>, where <c>W</c> is the measured ceiling, <c>K</c> =
/// <see cref="RecoveryTime"/> and <c>C = (1 − β) / K³</c> so that <c>rate(0) = β·W</c> with β =
/// <see cref="BackoffRatio"/>. It climbs fast when far below <c>W</c>, flattens just under it (a stable limit is held,
/// not oscillated around), and then probes above it, <see cref="ProbeGain"/> times steeper, which is how a raised limit
/// is found.</para>
/// </remarks>
internal sealed class RateProbe
{
    /// <summary>The share of the ceiling kept on a cut.</summary>
    public const double BackoffRatio = 0.9;

    /// <summary>The least rate the probe settles on, per second.</summary>
    public const double MinRatePerSecond = 0.05;

    /// <summary>The fewest accepted requests between two full moments that make a measurement (unless <see cref="LongSpan"/> passed).</summary>
    public const int MinAccepted = 4;

    /// <summary>The highest rate a ramp climbs to, per second: beyond any limit a provider sets for one key.</summary>
    public const double MaxRampRate = 100_000;

    /// <summary>The share of refused requests below which Sluice was at the limit's edge rather than well over it.</summary>
    public const double EdgeShare = 0.35;

    /// <summary>How much steeper the curve is above the ceiling than below it.</summary>
    public const double ProbeGain = 4;

    /// <summary>The most the curve may climb above its ceiling, as a multiple; past that the limit binds nothing anyway.</summary>
    public const double MaxGrowth = 10;

    /// <summary>
    /// How far above the measured rate the rate in force at the refusal may set the ceiling. The measurement reads low
    /// when Sluice paced below the limit for part of the span; the rate that drew the refusal cannot be below the
    /// limit, but after a fast ramp it can be far above it, so it counts only this far.
    /// </summary>
    public const double OvershootAllowance = 1.2;

    /// <summary>How long after a cut the rate is back at the ceiling (the curve's plateau).</summary>
    public static readonly TimeSpan RecoveryTime = TimeSpan.FromSeconds(6);

    /// <summary>The shortest time between two full moments that measures a rate: shorter, one request more or less is noise.</summary>
    public static readonly TimeSpan MinSpan = TimeSpan.FromMilliseconds(250);

    /// <summary>The least time what passed before the first refusal is counted over (a limiter's burst is often a second's worth).</summary>
    public static readonly TimeSpan FirstSpan = TimeSpan.FromSeconds(1);

    /// <summary>A span this long measures even with fewer than <see cref="MinAccepted"/> accepted: a slow limiter.</summary>
    public static readonly TimeSpan LongSpan = TimeSpan.FromSeconds(4);

    /// <summary>While the rate is only a lower bound, it doubles this often until a 429 measures the limit.</summary>
    public static readonly TimeSpan RampDoublingTime = TimeSpan.FromSeconds(0.5);

    private readonly double _ticksPerSecond;

    // The last full moment: when the refused request that marked it started, and its admission number.
    private long? _fullAt;
    private long _fullNumber;
    private int _refusedSinceFull;
    private bool _selfBoundSinceFull;
    private bool _cutSinceFull;

    private double? _ceiling;
    private bool _ramping;
    private bool _measured;
    private long _cutAt = long.MinValue;
    private long _lastEventAt = long.MinValue;
    private long _firstStart = long.MinValue;
    private long _startedCount;
    private long _refusedCount;

    /// <summary>Creates a probe for timestamps that advance <paramref name="ticksPerSecond"/> per second.</summary>
    public RateProbe(long ticksPerSecond) => _ticksPerSecond = ticksPerSecond;

    /// <summary>True once a 429 has set a rate.</summary>
    public bool HasRate => _ceiling is not null;

    /// <summary>The rate that drew the last cut, per second; <see langword="null"/> before the first measurement.</summary>
    public double? Ceiling => _ceiling;

    /// <summary>True while the rate is a lower bound climbing towards the limit rather than a measured one.</summary>
    public bool IsRamping => _ramping;

    /// <summary>
    /// True once the ceiling comes from a count between two full moments while Sluice kept the limiter busy: only
    /// then is it evidence against a budget someone stated.
    /// </summary>
    public bool IsMeasured => _measured;

    /// <summary>The rate to pace at, per second, at <paramref name="now"/>; <see langword="null"/> before the first measurement.</summary>
    public double? RatePerSecond(long now)
    {
        if (_ceiling is not { } ceiling)
        {
            return null;
        }

        double elapsed = Math.Max(0, (now - _cutAt) / _ticksPerSecond);
        if (_ramping)
        {
            // A lower bound may be far below the limit: the ramp climbs until a refusal, up to a bound no limit reaches.
            return Math.Min(ceiling * Math.Pow(2, Math.Min(elapsed / RampDoublingTime.TotalSeconds, 60)), MaxRampRate);
        }

        double k = RecoveryTime.TotalSeconds;
        double c = (1 - BackoffRatio) / (k * k * k);
        double t = elapsed - k;
        double gain = t > 0 ? ProbeGain : 1;
        return Math.Clamp(ceiling * (1 + (gain * c * t * t * t)), MinRatePerSecond, ceiling * MaxGrowth);
    }

    /// <summary>Counts a request admitted at <paramref name="now"/> (of times, only the first one's is kept).</summary>
    public void Started(long now)
    {
        if (_firstStart == long.MinValue)
        {
            _firstStart = now;
        }

        _startedCount++;
    }

    /// <summary>
    /// Notes that Sluice's own concurrency limit held a request back: until the next full moment, the limiter may not
    /// have been kept busy, so what it accepted is only a lower bound on its rate.
    /// </summary>
    public void SelfBound() => _selfBoundSinceFull = true;

    /// <summary>
    /// Takes a 429 for the request admitted as number <paramref name="admission"/> at <paramref name="startedAt"/>;
    /// returns true when it set a new rate. 429s from requests started before the last one that counted belong to the
    /// same event and only count as refusals.
    /// </summary>
    public bool Throttled(long admission, long startedAt, long now)
    {
        _refusedCount++;
        if (_fullAt is not null && admission > _fullNumber)
        {
            _refusedSinceFull++;
        }

        if (startedAt <= _lastEventAt)
        {
            return false;
        }

        _lastEventAt = now;
        if (_fullAt is not { } from)
        {
            // The first refusal: what passed before it may have been the limiter's burst, commonly a second's worth, so
            // take it as a rate over at least a second. Start there and climb fast; the next refusals measure.
            // Requests admitted together reach the limiter in any order, so count every request started and not (yet)
            // refused, rather than those admitted before this one.
            MarkFull(admission, startedAt);
            long passed = _startedCount - _refusedCount;
            if (passed < 1)
            {
                // Refused before anything passed: nothing to start from.
                return false;
            }

            double elapsed = Math.Max((startedAt - _firstStart) / _ticksPerSecond, FirstSpan.TotalSeconds);
            (_ceiling, _ramping, _cutAt, _measured) = (Math.Max(MinRatePerSecond, passed / elapsed), true, now, false);
            return true;
        }

        double? current = RatePerSecond(now);
        if (_ramping && current is { } ramped)
        {
            // The ramp doubled past the limit since the last doubling: the limit lies between half this rate and this
            // rate. Cut from here; the next 429 measures it from this full moment.
            MarkFull(admission, startedAt);
            (_ceiling, _ramping, _cutAt) = (ramped, false, now);
            return true;
        }

        double span = (startedAt - from) / _ticksPerSecond;
        long sent = admission - _fullNumber;
        long accepted = sent - _refusedSinceFull;
        // Well over the limit (refusals outnumber what passed), a short span already tells: waiting for the shortest
        // measuring span would cost a storm of refusals.
        bool overwhelmed = _refusedSinceFull >= 2 * MinAccepted && _refusedSinceFull > accepted && accepted >= MinAccepted;
        if ((span < MinSpan.TotalSeconds && !overwhelmed) || (accepted < MinAccepted && span < LongSpan.TotalSeconds))
        {
            // Too soon to measure: keep counting from the earlier full moment, which is as good a start as this one.
            // The rate in force drew the refusal, so cut from it once (as TCP does on a loss); more cuts before a
            // measurement would compound on noise.
            if (_cutSinceFull || current is not { } drew)
            {
                return false;
            }

            (_ceiling, _ramping, _cutAt, _cutSinceFull) = (drew, false, now, true);
            return true;
        }

        // Refused requests are retried, so a few refusals at the edge (timing jitter against a limiter with no burst)
        // would make the accepted count read low: near the edge, what was sent measures the limit; well over it, what
        // was accepted does.
        double counted = _refusedSinceFull < sent * EdgeShare ? sent : Math.Max(accepted, 0.5);
        double measured = Math.Max(MinRatePerSecond, counted / span);
        bool lowerBound = _selfBoundSinceFull;
        MarkFull(admission, startedAt);
        if (lowerBound)
        {
            // Sluice held itself back: the limit is at least this; climb from here until a 429 measures it.
            if (current is { } pacing && pacing > measured)
            {
                return false;
            }

            (_ceiling, _ramping, _cutAt, _measured) = (measured, true, now, false);
            return true;
        }

        double ceiling = current is { } rate ? Math.Max(measured, Math.Min(rate, measured * OvershootAllowance)) : measured;
        (_ceiling, _ramping, _cutAt, _measured) = (ceiling, false, now, true);
        return true;
    }

    private void MarkFull(long admission, long startedAt)
    {
        _fullAt = startedAt;
        _fullNumber = admission;
        _refusedSinceFull = 0;
        _selfBoundSinceFull = false;
        _cutSinceFull = false;
    }
}
