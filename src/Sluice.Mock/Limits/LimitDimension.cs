namespace Sluice.Mock.Limits;

/// <summary>The budgets a request draws on. The values index arrays of per-dimension state.</summary>
internal enum LimitDimension
{
    Requests = 0,
    Tokens = 1,
    InputTokens = 2,
    OutputTokens = 3,
}

internal static class LimitDimensions
{
    public const int Count = 4;

    public static readonly LimitDimension[] All =
        [LimitDimension.Requests, LimitDimension.Tokens, LimitDimension.InputTokens, LimitDimension.OutputTokens];

    /// <summary>The per-minute budget of one dimension, or null when it is unlimited.</summary>
    public static int? PerMinute(this MockLimits limits, LimitDimension dimension) => dimension switch
    {
        LimitDimension.Requests => limits.RequestsPerMinute,
        LimitDimension.Tokens => limits.TokensPerMinute,
        LimitDimension.InputTokens => limits.InputTokensPerMinute,
        LimitDimension.OutputTokens => limits.OutputTokensPerMinute,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };
}
