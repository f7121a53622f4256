namespace Sluice.Gate;

/// <summary>A partition's state at one instant, for progress displays, metrics and tests.</summary>
/// <param name="Key">The partition key.</param>
/// <param name="InFlight">Leases admitted and not yet released.</param>
/// <param name="Queued">Callers waiting to be admitted.</param>
/// <param name="ConcurrencyLimit">The current concurrency limit.</param>
/// <param name="RequestsAvailable">Requests that could start now under the request budget; <see langword="null"/> without one.</param>
/// <param name="TokensAvailable">Tokens available now under the token budget (negative after an under-estimate); <see langword="null"/> without one.</param>
/// <param name="PausedUntil">When a pause ends, if the partition is paused.</param>
/// <param name="StopReason">Why the partition is stopped, if it is.</param>
public readonly record struct PartitionSnapshot(
    string Key,
    int InFlight,
    int Queued,
    int ConcurrencyLimit,
    double? RequestsAvailable,
    double? TokensAvailable,
    DateTimeOffset? PausedUntil,
    string? StopReason)
{
    private readonly IReadOnlyList<BudgetSnapshot>? _budgets;
    private readonly IReadOnlyList<TenantSnapshot>? _tenants;

    /// <summary>
    /// The request budget in force, per minute, whatever its source: configured, stated by the provider's headers, or
    /// learned from 429s (the strictest wins); <see langword="null"/> when no request budget is known.
    /// </summary>
    public double? RequestsPerMinute { get; init; }

    /// <summary>The token budget in force, per minute (configured or stated by headers); <see langword="null"/> when none is known.</summary>
    public double? TokensPerMinute { get; init; }

    /// <summary>Where <see cref="RequestsPerMinute"/> comes from.</summary>
    public BudgetSource RequestBudgetSource { get; init; }

    /// <summary>Where <see cref="TokensPerMinute"/> comes from.</summary>
    public BudgetSource TokenBudgetSource { get; init; }

    /// <summary>
    /// Every budget in force, one entry per dimension that has one (requests, tokens, input and output tokens, per-day
    /// budgets), in <see cref="BudgetDimension"/> order.
    /// </summary>
    public IReadOnlyList<BudgetSnapshot> Budgets
    {
        get => _budgets ?? [];
        init => _budgets = value;
    }

    /// <summary>
    /// Every tenant the partition tracks (<see cref="GateOptions.MaxTenants"/> at most), the default tenant only once
    /// a request without a tenant has come; empty for a gate that does not track tenants.
    /// </summary>
    public IReadOnlyList<TenantSnapshot> Tenants
    {
        get => _tenants ?? [];
        init => _tenants = value;
    }

    /// <summary>True when <see cref="ConcurrencyLimit"/> is learned (<see cref="PartitionLimits.AdaptiveConcurrency"/>).</summary>
    public bool AdaptiveConcurrency { get; init; }
}
