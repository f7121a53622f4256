namespace Sluice.Mock;

/// <summary>
/// The budgets the mock enforces, like the rate limits of one provider account. Every budget is optional:
/// <see langword="null"/> means unlimited. Change them while the mock runs with
/// <see cref="MockServer.SetLimits(MockLimits)"/> or <c>POST /mock/limits</c>.
/// </summary>
/// <remarks>
/// Each per-minute budget is a token bucket that refills continuously at budget ÷ 60 per second and holds
/// at most budget × <see cref="Burst"/> ÷ 1 minute (never less than 1). A single request that costs more
/// than the bucket holds is admitted only when the bucket is full, and leaves it in debt: a provider accepts
/// any single request up to its per-minute limit. A request that costs more than the whole per-minute
/// budget is refused as too large.
/// </remarks>
public sealed record MockLimits
{
    /// <summary>Requests per minute, over every API endpoint.</summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public int? RequestsPerMinute { get; init; }

    /// <summary>
    /// Tokens per minute, over every API endpoint. A request costs its prompt estimate plus its output cap.
    /// </summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public int? TokensPerMinute { get; init; }

    /// <summary>Input (prompt) tokens per minute, applied to Anthropic <c>/v1/messages</c> only.</summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public int? InputTokensPerMinute { get; init; }

    /// <summary>Output tokens per minute (the output cap, <c>max_tokens</c>), applied to Anthropic <c>/v1/messages</c> only.</summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public int? OutputTokensPerMinute { get; init; }

    /// <summary>Requests admitted and not yet answered, at most.</summary>
    /// <value>Default: <see langword="null"/> (unlimited).</value>
    public int? MaxConcurrency { get; init; }

    /// <summary>How much of each per-minute budget may be spent at once: the bucket holds budget × burst ÷ 1 minute.</summary>
    /// <value>Default: 1 second (one second's worth of each budget, at least one request). At most 1 minute.</value>
    public TimeSpan Burst { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Lists what is wrong with these limits; empty when they are valid.</summary>
    internal IEnumerable<string> Validate(string prefix)
    {
        foreach (var (name, value) in new (string, int?)[]
                 {
                     (nameof(RequestsPerMinute), RequestsPerMinute),
                     (nameof(TokensPerMinute), TokensPerMinute),
                     (nameof(InputTokensPerMinute), InputTokensPerMinute),
                     (nameof(OutputTokensPerMinute), OutputTokensPerMinute),
                     (nameof(MaxConcurrency), MaxConcurrency),
                 })
        {
            if (value is < 1)
            {
                yield return $"{prefix}{name} must be at least 1 (or null for unlimited), but was {value}.";
            }
        }

        if (Burst <= TimeSpan.Zero || Burst > TimeSpan.FromMinutes(1))
        {
            yield return $"{prefix}{nameof(Burst)} must be more than 0 and at most 1 minute, but was {Burst}.";
        }
    }
}
