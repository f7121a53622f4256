using System.Globalization;

namespace Sluice.Providers;

/// <summary>
/// What a provider's error says beyond its status: a used-up quota or billing limit, a rate limit, a single request
/// too large for the whole budget, and the wait its message suggests. Explicit codes win over wording, because
/// wording drifts and some rate-limit messages mention billing ("add a payment method … /account/billing").
/// </summary>
internal static class ErrorSignals
{
    // error.code / error.type values that mean the account, not the rate, is the problem.
    private static readonly string[] QuotaNames =
    [
        "insufficient_quota", "billing_hard_limit_reached", "billing_not_active", "billing_error", "quota_exceeded",
    ];

    // error.code / error.type values that mean "slow down" (OpenAI, Azure, Anthropic).
    private static readonly string[] RateLimitNames =
    [
        "rate_limit_exceeded", "requests", "tokens", "rate_limit_error", "429", "RateLimitReached", "too_many_requests",
    ];

    // Wording of quota, billing and spend-limit errors across providers (OpenAI, Anthropic, Azure).
    private static readonly string[] QuotaPhrases =
    [
        "exceeded your current quota", "check your plan and billing", "billing hard limit", "credit balance",
        "spend limit", "spending limit", "usage limit", "out of call volume quota",
    ];

    /// <summary>Whether the error names a used-up quota or billing limit by code or type.</summary>
    /// <param name="error">The provider's error.</param>
    /// <returns><see langword="true"/> for <c>insufficient_quota</c>, <c>billing_error</c> and the like.</returns>
    public static bool HasQuotaName(ProviderError error) => IsOneOf(error.Code, QuotaNames) || IsOneOf(error.Type, QuotaNames);

    /// <summary>Whether the error is a rate limit, by code, type or wording.</summary>
    /// <param name="error">The provider's error.</param>
    /// <returns><see langword="true"/> for <c>rate_limit_exceeded</c>, <c>rate_limit_error</c>, "Rate limit reached …".</returns>
    public static bool IsRateLimit(ProviderError error) =>
        IsOneOf(error.Code, RateLimitNames) || IsOneOf(error.Type, RateLimitNames) || Mentions(error.Message, "rate limit");

    /// <summary>Whether the error's wording describes a quota, billing or spend limit.</summary>
    /// <param name="error">The provider's error.</param>
    /// <returns><see langword="true"/> when any known phrase appears.</returns>
    public static bool HasQuotaWording(ProviderError error)
    {
        foreach (var phrase in QuotaPhrases)
        {
            if (Mentions(error.Message, phrase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the error is OpenAI's "Request too large … on tokens per min": one request bigger than the whole budget,
    /// which no amount of waiting admits.
    /// </summary>
    /// <param name="error">The provider's error.</param>
    /// <returns><see langword="true"/> when the message says so.</returns>
    public static bool IsRequestTooLarge(ProviderError error) => Mentions(error.Message, "request too large");

    /// <summary>
    /// The wait a message suggests: OpenAI's "Please try again in 2s." (any duration <see cref="OpenAIDuration"/> reads),
    /// "try again in 20 seconds", Azure's "Please retry after 6 seconds.".
    /// </summary>
    /// <param name="message">The provider's message.</param>
    /// <returns>The wait, or <see langword="null"/> when the message suggests none.</returns>
    public static TimeSpan? RetryHint(string? message)
    {
        if (message is null)
        {
            return null;
        }

        foreach (var lead in (ReadOnlySpan<string>)["try again in ", "retry after "])
        {
            var at = message.IndexOf(lead, StringComparison.OrdinalIgnoreCase);
            if (at >= 0 && ReadWait(message.AsSpan(at + lead.Length)) is { } wait)
            {
                return wait;
            }
        }

        return null;
    }

    // Reads "2s", "1.5s.", "120ms", "6m0s", or "20 seconds", "1 minute", "500 milliseconds" at the start of the text.
    private static TimeSpan? ReadWait(ReadOnlySpan<char> text)
    {
        var end = text.IndexOfAny(' ', ',', ';');
        var word = (end < 0 ? text : text[..end]).TrimEnd('.');
        if (OpenAIDuration.Parse(word.ToString()) is { } duration && word is not "0")
        {
            return duration;
        }

        if (end < 0 || !double.TryParse(word, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }

        var unit = text[(end + 1)..].TrimStart();
        var seconds =
            unit.StartsWith("ms", StringComparison.OrdinalIgnoreCase) || unit.StartsWith("milli", StringComparison.OrdinalIgnoreCase) ? amount / 1000
            : unit.StartsWith("sec", StringComparison.OrdinalIgnoreCase) ? amount
            : unit.StartsWith("min", StringComparison.OrdinalIgnoreCase) ? amount * 60
            : unit.StartsWith("hour", StringComparison.OrdinalIgnoreCase) ? amount * 3600
            : double.NaN;
        return RateLimitHeaders.ClampWait(seconds);
    }

    private static bool IsOneOf(string? name, string[] names) =>
        name is not null && Array.Exists(names, n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));

    private static bool Mentions(string? message, string phrase) =>
        message is not null && message.Contains(phrase, StringComparison.OrdinalIgnoreCase);
}
