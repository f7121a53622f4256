namespace Sluice.Mock.Limits;

/// <summary>Why the gate refused a request.</summary>
internal enum Refusal
{
    None,

    /// <summary>The bucket of <see cref="Admission.Dimension"/> does not hold enough yet.</summary>
    RateLimited,

    /// <summary>The request costs more than the whole per-minute budget of <see cref="Admission.Dimension"/>: waiting cannot help.</summary>
    TooLarge,

    /// <summary>As many requests as allowed are already in flight.</summary>
    Concurrency,
}

/// <summary>The gate's answer: admitted, or refused with a reason and an honest time to wait. A value, never an exception.</summary>
internal sealed record Admission(
    Refusal Refusal,
    LimitDimension Dimension,
    long Requested,
    long Limit,
    TimeSpan RetryAfter,
    RateLimitSnapshot Snapshot)
{
    public bool Admitted => Refusal == Refusal.None;
}
