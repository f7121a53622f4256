namespace Sluice.Adaptive;

/// <summary>
/// The concurrency a budget needs, by Little's law: requests in flight = rate × latency. Pure: samples and timestamps
/// come in, a number comes out; no clock, no lock (the partition that owns it holds its lock).
/// </summary>
/// <remarks>
/// <para>When a request or token budget paces a partition, the concurrency limit exists only to protect an upstream
/// that has no budget to state; it must never be what holds the partition below its budget. Answers that take seconds
/// (long generations) need hundreds in flight at a few thousand requests a minute, far more than an additive-increase
/// limit reaches in a run, and a fixed ceiling would bind. So the adaptive limit is raised to this floor: the rate in
/// force times the mean latency times <see cref="Headroom"/> (latency varies from answer to answer, and the floor must
/// cover the slow ones too).</para>
/// <para>Before the first answer the latency is unknown but at least the age of the first request in flight, so the
/// floor grows with it: it reaches the budget's need within a latency instead of doubling up from a small start.</para>
/// </remarks>
internal sealed class LittleFloor
{
    /// <summary>In flight allowed beyond rate × mean latency, as a multiple.</summary>
    public const double Headroom = 1.5;

    /// <summary>The most the floor asks for; 10,000 requests in flight cost well under 200 MB.</summary>
    public const int MaxFloor = 10_000;

    /// <summary>Weight of the newest sample in the moving means.</summary>
    public const double SampleWeight = 0.1;

    private readonly double _ticksPerSecond;
    private double? _meanLatencySeconds;
    private double? _meanTokens;
    private long? _firstAdmittedAt;

    /// <summary>Creates a floor for timestamps that advance <paramref name="ticksPerSecond"/> per second.</summary>
    public LittleFloor(long ticksPerSecond) => _ticksPerSecond = ticksPerSecond;

    /// <summary>Counts a request admitted at <paramref name="now"/> that reserved <paramref name="tokens"/>.</summary>
    public void Admitted(long tokens, long now)
    {
        _firstAdmittedAt ??= now;
        _meanTokens = _meanTokens is { } mean ? mean + (SampleWeight * (tokens - mean)) : tokens;
    }

    /// <summary>Takes the latency of one answered request.</summary>
    public void Answered(long admittedAt, long now)
    {
        double seconds = Math.Max(0, (now - admittedAt) / _ticksPerSecond);
        _meanLatencySeconds = _meanLatencySeconds is { } mean ? mean + (SampleWeight * (seconds - mean)) : seconds;
    }

    /// <summary>
    /// The requests per second the budgets allow: the request rate, or the token rate over the mean reservation,
    /// whichever binds; <see langword="null"/> when neither is known.
    /// </summary>
    public double? BudgetRate(double? requestsPerSecond, double? tokensPerSecond)
    {
        double? fromTokens = tokensPerSecond is { } tokens && _meanTokens is > 0 and { } perRequest ? tokens / perRequest : null;
        return (requestsPerSecond, fromTokens) switch
        {
            ({ } r, { } t) => Math.Min(r, t),
            ({ } r, null) => r,
            (null, { } t) => t,
            _ => null,
        };
    }

    /// <summary>The in-flight count the budget rate needs at <paramref name="now"/>; 0 when no budget is known.</summary>
    public int Floor(double? budgetRate, long now)
    {
        if (budgetRate is not { } rate || LatencySeconds(now) is not { } latency)
        {
            return 0;
        }

        double needed = Math.Ceiling(rate * latency * Headroom) + 1;
        return needed >= MaxFloor ? MaxFloor : (int)needed;
    }

    /// <summary>
    /// When the floor, still growing with the age of the first request because nothing has been answered yet, reaches
    /// <paramref name="limit"/>; <see langword="null"/> when it does not grow with time.
    /// </summary>
    public long? ReachesAt(int limit, double? budgetRate, long now)
    {
        if (_meanLatencySeconds is not null || _firstAdmittedAt is not { } first || budgetRate is not > 0 || limit > MaxFloor)
        {
            return null;
        }

        // The floor is ceil(rate × age × headroom) + 1: it reaches the limit one tick after rate × age × headroom
        // passes limit − 2.
        double age = Math.Max(0, limit - 2) / (budgetRate.Value * Headroom);
        return Math.Max(now + 1, first + (long)Math.Floor(age * _ticksPerSecond) + 1);
    }

    private double? LatencySeconds(long now) =>
        _meanLatencySeconds ?? (_firstAdmittedAt is { } first ? (now - first) / _ticksPerSecond : null);
}
