namespace Sluice.Mock;

/// <summary>
/// What the independent budget audit found: for each budget, how many admissions closed a sliding window
/// (of <see cref="MockOptions.AuditWindow"/>) in which more was admitted than the budget allows. Always 0
/// when the mock works.
/// </summary>
public sealed class MockBudgetViolations
{
    /// <summary>Windows over the requests-per-minute budget.</summary>
    public long Requests { get; init; }

    /// <summary>Windows over the tokens-per-minute budget.</summary>
    public long Tokens { get; init; }

    /// <summary>Windows over the input-tokens-per-minute budget.</summary>
    public long InputTokens { get; init; }

    /// <summary>Windows over the output-tokens-per-minute budget.</summary>
    public long OutputTokens { get; init; }

    /// <summary>Admissions that made more requests in flight than the concurrency limit.</summary>
    public long Concurrency { get; init; }

    /// <summary>All of the above.</summary>
    public long Total => Requests + Tokens + InputTokens + OutputTokens + Concurrency;
}
