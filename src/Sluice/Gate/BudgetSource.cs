namespace Sluice.Gate;

/// <summary>Where the budget a partition is paced by comes from.</summary>
public enum BudgetSource
{
    /// <summary>No budget is known: nothing paces this dimension.</summary>
    None,

    /// <summary>The budget configured in <see cref="PartitionLimits"/>.</summary>
    Configured,

    /// <summary>The budget the provider's rate-limit headers state (lower than any configured one).</summary>
    Headers,

    /// <summary>A request rate learned from the spacing of 429s, where neither configuration nor headers state one.</summary>
    Throttling,
}
