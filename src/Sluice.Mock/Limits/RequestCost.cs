namespace Sluice.Mock.Limits;

/// <summary>
/// What one request draws from the budgets: one request, its prompt estimate plus output cap in tokens, and,
/// for Anthropic <c>/v1/messages</c> only, its input and output tokens against their separate budgets.
/// </summary>
internal readonly record struct RequestCost(long InputTokens, long OutputTokens, bool SeparateInputOutput)
{
    public long Tokens => InputTokens + OutputTokens;

    /// <summary>The amount drawn from <paramref name="dimension"/>, or null when the request does not draw on it.</summary>
    public long? For(LimitDimension dimension) => dimension switch
    {
        LimitDimension.Requests => 1,
        LimitDimension.Tokens => Tokens,
        LimitDimension.InputTokens => SeparateInputOutput ? InputTokens : null,
        LimitDimension.OutputTokens => SeparateInputOutput ? OutputTokens : null,
        _ => null,
    };
}
