namespace Sluice.Providers;

/// <summary>
/// Everything a response's headers said about rate limits: how long to wait, and the provider's view of each budget.
/// It feeds the gate's server view (<c>ObserveRequests</c>, <c>ObserveTokens</c>) and throttled retries.
/// </summary>
/// <param name="RetryAfter">
/// The wait the provider asked for: <c>retry-after-ms</c>, else <c>x-ms-retry-after-ms</c>, else <c>retry-after</c>;
/// never negative.
/// </param>
/// <param name="Requests">The request budget (OpenAI and Anthropic).</param>
/// <param name="Tokens">The token budget (OpenAI; Anthropic's most restrictive token budget).</param>
/// <param name="InputTokens">Anthropic's input-token budget.</param>
/// <param name="OutputTokens">Anthropic's output-token budget.</param>
internal sealed record RateLimitInfo(
    TimeSpan? RetryAfter,
    BudgetHeader Requests,
    BudgetHeader Tokens,
    BudgetHeader InputTokens,
    BudgetHeader OutputTokens)
{
    /// <summary>The per-day request budget (<c>x-ratelimit-*-requests-day</c>, as Cerebras states it).</summary>
    public BudgetHeader RequestsPerDay { get; init; }

    /// <summary>The per-day token budget (<c>x-ratelimit-*-tokens-day</c>).</summary>
    public BudgetHeader TokensPerDay { get; init; }

    /// <summary>No rate-limit headers at all.</summary>
    public static RateLimitInfo None { get; } = new(null, default, default, default, default);

    /// <summary>
    /// The latest reset among the budgets the provider reports as used up, or <see langword="null"/> when none is:
    /// the earliest moment a throttled request could succeed when the provider gave no Retry-After.
    /// </summary>
    public DateTimeOffset? LatestExhaustedReset
    {
        get
        {
            DateTimeOffset? latest = null;
            foreach (var budget in (ReadOnlySpan<BudgetHeader>)[Requests, Tokens, InputTokens, OutputTokens, RequestsPerDay, TokensPerDay])
            {
                if (budget.IsExhausted && (latest is null || budget.ResetAt > latest))
                {
                    latest = budget.ResetAt;
                }
            }

            return latest;
        }
    }
}
