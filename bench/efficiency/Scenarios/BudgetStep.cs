namespace Sluice.Efficiency.Scenarios;

/// <summary>
/// The mock's budgets from <paramref name="At"/> (measured from the start of a row) until the next step.
/// A null budget is unlimited.
/// </summary>
/// <param name="At">When the budgets take effect, from the start of the row.</param>
/// <param name="RequestsPerMinute">The request budget, or null for none.</param>
/// <param name="TokensPerMinute">The token budget, or null for none.</param>
internal sealed record BudgetStep(TimeSpan At, int? RequestsPerMinute, int? TokensPerMinute);
