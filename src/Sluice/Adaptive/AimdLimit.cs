namespace Sluice.Adaptive;

/// <summary>
/// Additive-increase, multiplicative-decrease concurrency limit: a pure function of samples, with no clock and no lock
/// (the partition that owns it passes timestamps in and holds its lock). The machine that admits requests is the gate;
/// this only says how many may be in flight.
/// </summary>
/// <remarks>
/// <para>The shape follows TCP congestion control and Netflix's concurrency-limits <c>AIMDLimit</c>, tuned for LLM
/// calls whose latency varies with output length (so latency is not used as a signal):</para>
/// <list type="bullet">
/// <item><b>Slow start</b>: from <see cref="InitialLimit"/>, each success adds one (the limit doubles every round
/// trip) until the first drop. A drop in slow start halves the limit: the overshoot may be large.</item>
/// <item><b>Additive increase</b>: after that, each success adds 1/limit (one more slot per round trip) up to one
/// below the limit that last drew a drop; from there it probes upward ten times slower
/// (<see cref="ProbeShare"/>), so a stable upstream limit is touched rarely rather than every few round trips.</item>
/// <item><b>Multiplicative decrease</b>: a drop (429, 529, 503, 504, timeout) multiplies the limit by
/// <see cref="BackoffRatio"/>. Drops from requests that started before the last decrease belong to the same
/// congestion event and are ignored: one burst of 429s is one cut, not twenty.</item>
/// <item>Successes while fewer than half the slots are in use are ignored: the limit is not what held the caller
/// back, so they prove nothing about a higher one.</item>
/// </list>
/// </remarks>
internal sealed class AimdLimit
{
    /// <summary>
    /// Where the limit starts: low enough that a first wave of unknown cost cannot flood an upstream, nor a key that
    /// other processes are spending (ten processes starting together sent 80 requests blind at 8, into a provider
    /// burst of 25); slow start doubles it with each round of answers.
    /// </summary>
    public const int InitialLimit = 4;

    /// <summary>The factor applied on a drop after slow start.</summary>
    public const double BackoffRatio = 0.9;

    /// <summary>The factor applied on the drop that ends slow start.</summary>
    public const double SlowStartBackoffRatio = 0.5;

    /// <summary>Growth above the last limit that drew a drop, as a share of ordinary additive increase.</summary>
    public const double ProbeShare = 0.1;

    private readonly int _min;
    private readonly int _max;
    private double _limit;
    private double _ceiling = double.PositiveInfinity;
    private bool _slowStart = true;
    private long _lastDecreaseAt = long.MinValue;

    /// <summary>Creates a limit between <paramref name="min"/> and <paramref name="max"/>.</summary>
    public AimdLimit(int max, int min = 1, int initial = InitialLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(min, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        _min = min;
        _max = max;
        _limit = Math.Clamp(initial, min, max);
    }

    /// <summary>The current limit: requests that may be in flight at once.</summary>
    public int Limit => Math.Clamp((int)_limit, _min, _max);

    /// <summary>True until the first drop.</summary>
    public bool InSlowStart => _slowStart;

    /// <summary>Takes one sample and returns the new limit.</summary>
    /// <param name="signal">What the attempt said.</param>
    /// <param name="inFlight">Requests in flight when the attempt finished, itself included.</param>
    /// <param name="startedAt">When the attempt was admitted (any monotonic timestamp unit).</param>
    /// <param name="now">When it finished, in the same unit.</param>
    /// <returns>The limit after the sample.</returns>
    public int Update(PacingSignal signal, int inFlight, long startedAt, long now)
    {
        switch (signal)
        {
            case PacingSignal.Success:
                Grow(inFlight);
                break;

            case PacingSignal.Throttled or PacingSignal.Overloaded when startedAt > _lastDecreaseAt:
                _ceiling = _limit;
                _limit = Math.Max(_min, _limit * (_slowStart ? SlowStartBackoffRatio : BackoffRatio));
                _slowStart = false;
                _lastDecreaseAt = now;
                break;
        }

        return Limit;
    }

    private void Grow(int inFlight)
    {
        if (inFlight * 2 < Limit || _limit >= _max)
        {
            return;
        }

        if (_slowStart)
        {
            _limit += 1;
        }
        else if (_limit < _ceiling - 1)
        {
            _limit += 1 / _limit;
        }
        else
        {
            _limit += ProbeShare / _limit;
            if (_limit > _ceiling + 1)
            {
                // The limit that drew the last drop has been exceeded without one: the upstream has room again, and
                // the next drop will set a new ceiling.
                _ceiling = double.PositiveInfinity;
            }
        }

        _limit = Math.Min(_limit, _max);
    }
}
