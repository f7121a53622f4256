namespace Sluice.Gate;

/// <summary>
/// One of the budgets a partition may be held to. Each is stated in <see cref="PartitionLimits"/> or by the provider's
/// headers, reserved at admission and settled on its own.
/// </summary>
public enum BudgetDimension
{
    /// <summary>Requests per <see cref="PartitionLimits.Window"/> (a provider's RPM).</summary>
    Requests,

    /// <summary>Tokens per window, prompt estimate plus output cap (a provider's TPM).</summary>
    Tokens,

    /// <summary>Input (prompt) tokens per window, reserved at the prompt estimate (Anthropic's ITPM).</summary>
    InputTokens,

    /// <summary>Output tokens per window, reserved at the request's output cap (Anthropic's OTPM).</summary>
    OutputTokens,

    /// <summary>Requests in any one day (a provider's RPD).</summary>
    RequestsPerDay,

    /// <summary>Tokens in any one day, prompt estimate plus output cap (a provider's TPD).</summary>
    TokensPerDay,
}
