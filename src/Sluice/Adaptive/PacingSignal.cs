namespace Sluice.Adaptive;

/// <summary>
/// What one finished attempt says about the upstream's capacity, for the adaptive limits. The dispatcher classifies
/// every answer into one and reports it to the attempt's partition (<see cref="Gate.GatePartition.RecordOutcome"/>).
/// </summary>
public enum PacingSignal
{
    /// <summary>Says nothing about capacity: a permanent error, a refused credential, a plain 500, a dropped connection.</summary>
    None,

    /// <summary>The upstream answered: there was room for this request.</summary>
    Success,

    /// <summary>A rate limit refused the request (429, Anthropic 529): too many requests, or too fast.</summary>
    Throttled,

    /// <summary>The upstream is overloaded (503, 504) or did not answer in time: too many requests at once.</summary>
    Overloaded,
}
