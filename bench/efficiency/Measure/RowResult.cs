namespace Sluice.Efficiency.Measure;

/// <summary>What one runner did in one scenario, from the client's count and the limiter's own count.</summary>
internal sealed record RowResult
{
    public required string Scenario { get; init; }

    public required string Runner { get; init; }

    /// <summary>Whether the row is Sluice (held to the targets) rather than a peer.</summary>
    public bool IsSluice { get; init; }

    /// <summary>
    /// Time from the first request sent to the last one ended (or to the cap); for a runner in a process of its own,
    /// from starting the process to its exit.
    /// </summary>
    public required TimeSpan Wall { get; init; }

    /// <summary>See <see cref="IdealTime"/>.</summary>
    public required TimeSpan Ideal { get; init; }

    /// <summary>Requests the limiter received (the mock's <c>received</c>, nginx's access log): every attempt that reached it.</summary>
    public required long Attempts { get; init; }

    /// <summary>Attempts the limiter answered 429 (the mock: request, token or concurrency budget).</summary>
    public required long Throttled { get; init; }

    /// <summary>Attempts the client sent beyond one per request, whatever caused them; null when not known.</summary>
    public required long? Retries { get; init; }

    /// <summary>Requests that did not end with a 2xx and a well-formed body.</summary>
    public required long Lost { get; init; }

    /// <summary>Of <see cref="Lost"/>, requests that had not ended when the time cap stopped the row.</summary>
    public long Unfinished { get; init; }

    /// <summary>Why requests that ended were lost, most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> LossReasons { get; init; } = [];

    /// <summary>The mock's independent budget audit: admissions beyond what the budget allows; null for nginx, which keeps none.</summary>
    public required long? Violations { get; init; }

    /// <summary>Whether the row was stopped at its time cap (its unfinished requests count as lost).</summary>
    public bool Capped { get; init; }

    /// <summary>The targets for this row, or null when none apply (the baselines).</summary>
    public Targets? Targets { get; init; }

    /// <summary>
    /// For a Sluice row, the best efficiency among the peers of the same scenario that finished their batch, or null
    /// when none did (or the row is a peer). Filled in once the scenario's rows are all done.
    /// </summary>
    public double? BestPeerEfficiency { get; init; }

    /// <summary>Ideal ÷ wall; only meaningful when the batch was finished (<see cref="Lost"/> is 0).</summary>
    public double Efficiency => IdealTime.Efficiency(Ideal, Wall);

    /// <summary>Whether the row finished the batch, so its efficiency means something.</summary>
    public bool Finished => Lost == 0 && !Capped;

    public double ThrottledShare => Attempts == 0 ? 0 : (double)Throttled / Attempts;

    public bool MissesEfficiency => Targets is { } t && (!Finished || Efficiency < t.MinEfficiency);

    public bool MissesThrottled => Targets is { MaxThrottledShare: { } max } && ThrottledShare > max;

    public bool MissesLost => Targets is not null && Lost > 0;

    /// <summary>Budget violations are the mock's failure, whoever the client: they must be 0 on every row.</summary>
    public bool MissesViolations => Violations > 0;

    /// <summary>A Sluice row slower than the best peer of its scenario.</summary>
    public bool MissesPeer => Targets is not null && BestPeerEfficiency is { } best && (!Finished || Efficiency < best);

    public bool MissesAny => MissesEfficiency || MissesThrottled || MissesLost || MissesViolations || MissesPeer;
}
