namespace Sluice.Gate;

/// <summary>What one admission reserves from the token-side budgets (every admission also takes one request).</summary>
/// <param name="Tokens">Against <see cref="BudgetDimension.Tokens"/> and <see cref="BudgetDimension.TokensPerDay"/>.</param>
/// <param name="Input">Against <see cref="BudgetDimension.InputTokens"/>.</param>
/// <param name="Output">Against <see cref="BudgetDimension.OutputTokens"/>.</param>
internal readonly record struct BudgetCost(long Tokens, long Input, long Output)
{
    public static BudgetCost Of(AdmissionRequest request) => new(request.Tokens, request.InputTokens, request.OutputTokens);

    /// <summary>The amount drawn from a token dimension (<see cref="BudgetDimension.Tokens"/>, input or output).</summary>
    public long For(BudgetDimension dimension) => dimension switch
    {
        BudgetDimension.Tokens or BudgetDimension.TokensPerDay => Tokens,
        BudgetDimension.InputTokens => Input,
        BudgetDimension.OutputTokens => Output,
        _ => 0,
    };
}
