namespace Sluice.Providers;

/// <summary>
/// One budget as a provider reported it in its rate-limit headers (requests, tokens, input or output tokens). Each
/// part is <see langword="null"/> when the header was absent or could not be read.
/// </summary>
/// <param name="Limit">The budget per window (<c>x-ratelimit-limit-*</c>, <c>anthropic-ratelimit-*-limit</c>).</param>
/// <param name="Remaining">What is left of it now; a negative report is read as zero.</param>
/// <param name="ResetAt">When the provider says the budget is whole again, as an instant.</param>
internal readonly record struct BudgetHeader(long? Limit, long? Remaining, DateTimeOffset? ResetAt)
{
    /// <summary>Whether no part of this budget was reported.</summary>
    public bool IsEmpty => Limit is null && Remaining is null && ResetAt is null;

    /// <summary>Whether the provider says nothing is left and when that changes: a throttled request can wait for it.</summary>
    public bool IsExhausted => Remaining == 0 && ResetAt is not null;
}
