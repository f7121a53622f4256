namespace Sluice.Gate;

/// <summary>What a caller asks the gate for.</summary>
/// <param name="Tokens">
/// Estimated token cost (prompt plus output cap) to reserve against <see cref="BudgetDimension.Tokens"/> and
/// <see cref="BudgetDimension.TokensPerDay"/>; settled later with <see cref="GateLease.Settle(long)"/>. Zero when unknown.
/// </param>
/// <param name="Priority">
/// Higher is served first (a waiter's priority rises by one for every <see cref="GateOptions.PriorityAging"/> it has
/// waited, up to the highest priority waiting); among equal priorities, the tenants share by weight and each tenant's
/// own requests go first come first served.
/// </param>
/// <param name="AtFront">
/// Queue ahead of every waiter of the same priority and tenant: for work that was already admitted once and must go again,
/// such as a request the provider throttled.
/// </param>
public readonly record struct AdmissionRequest(long Tokens = 0, int Priority = 0, bool AtFront = false)
{
    /// <summary>The prompt estimate to reserve against <see cref="BudgetDimension.InputTokens"/>.</summary>
    /// <value>Defaults to 0: nothing reserved against an input-token budget.</value>
    public long InputTokens { get; init; }

    /// <summary>The output cap (<c>max_tokens</c>) to reserve against <see cref="BudgetDimension.OutputTokens"/>.</summary>
    /// <value>Defaults to 0: nothing reserved against an output-token budget.</value>
    public long OutputTokens { get; init; }

    /// <summary>
    /// Who the request is for: the partition shares its budget among tenants by weighted fair queuing, and holds a
    /// tenant to its own <see cref="GateTenant.Limits"/>.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: the partition's default tenant, named <c>default</c>, weight 1.</value>
    public GateTenant? Tenant { get; init; }
}
