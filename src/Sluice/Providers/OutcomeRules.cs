using System.Globalization;
using Sluice.Dispatch;

namespace Sluice.Providers;

/// <summary>
/// The classification table every provider profile applies (DESIGN.md, "Outcome classes"). The providers differ in
/// wording and headers, not in what their answers mean, so the rules live once, here, and read every provider's shapes.
/// </summary>
/// <remarks>
/// In order:
/// <list type="number">
/// <item>2xx: success when the body is empty (a streamed answer is classified before its body is read), when the
/// answer is not JSON by its content type (a file, audio, text: <see cref="AnswerContent.IsJson"/>), or when it is
/// one well-formed JSON value; a JSON answer that is not well-formed is transient ("malformed body").</item>
/// <item>401: auth. 403: quota when its wording says so (Azure's "Out of call volume quota"), else auth.</item>
/// <item>402: quota (Anthropic <c>billing_error</c>).</item>
/// <item>429: quota by code (<c>insufficient_quota</c>, <c>billing_hard_limit_reached</c>); then, unless it is plainly a
/// rate limit, quota by wording (billing, spend limit, credit balance); then permanent for "Request too large" (one
/// request over the whole budget); otherwise throttled.</item>
/// <item>529 (Anthropic overloaded): throttled.</item>
/// <item>408, 409, 425, 500–599: transient, honouring a Retry-After.</item>
/// <item>Other 4xx: quota when the code or wording says so (Anthropic's 400 "credit balance is too low"), else
/// permanent (400 <c>context_length_exceeded</c>, 404, 413, 422).</item>
/// <item>Anything else (1xx, 3xx, nonsense): permanent.</item>
/// </list>
/// </remarks>
internal static class OutcomeRules
{
    /// <summary>Classifies one answer.</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="limits">The answer's rate-limit headers, already read.</param>
    /// <param name="mediaType">The media type of the answer's <c>Content-Type</c>, or <see langword="null"/> when it has none.</param>
    /// <param name="body">The buffered body (an error body, or a non-streamed 2xx body); may be empty.</param>
    /// <param name="now">When the answer arrived.</param>
    /// <returns>The classification; never throws on any body.</returns>
    public static Classification Classify(int statusCode, RateLimitInfo limits, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (statusCode is >= 200 and <= 299)
        {
            return body.IsEmpty || !AnswerContent.IsJson(mediaType, body) || JsonBody.IsWellFormedValue(body)
                ? new Classification(AttemptOutcomeKind.Success, string.Empty, null, null)
                : new Classification(
                    AttemptOutcomeKind.Transient,
                    $"malformed body: HTTP {statusCode.ToString(CultureInfo.InvariantCulture)} whose JSON body is not well-formed",
                    limits.RetryAfter, null);
        }

        var error = ProviderError.Read(body);
        var kind = KindOf(statusCode, error);
        var retryAfter = kind switch
        {
            AttemptOutcomeKind.Throttled => limits.RetryAfter ?? ResetWait(limits, error, now) ?? ErrorSignals.RetryHint(error.Message),
            AttemptOutcomeKind.Transient => limits.RetryAfter,
            _ => null,
        };

        var name = error.Name is { Length: > 0 } n ? ErrorText.Clean(n, 60) : null;
        return new Classification(kind, ErrorText.Describe(statusCode, error), retryAfter, name);
    }

    private static AttemptOutcomeKind KindOf(int statusCode, ProviderError error) => statusCode switch
    {
        401 => AttemptOutcomeKind.AuthFailed,
        403 => ErrorSignals.HasQuotaName(error) || ErrorSignals.HasQuotaWording(error)
            ? AttemptOutcomeKind.QuotaExhausted
            : AttemptOutcomeKind.AuthFailed,
        402 => AttemptOutcomeKind.QuotaExhausted,
        429 => TooManyRequests(error),
        529 => AttemptOutcomeKind.Throttled,
        408 or 409 or 425 or (>= 500 and <= 599) => AttemptOutcomeKind.Transient,
        >= 400 and <= 499 => IsQuota(error) ? AttemptOutcomeKind.QuotaExhausted : AttemptOutcomeKind.Permanent,
        _ => AttemptOutcomeKind.Permanent,
    };

    private static AttemptOutcomeKind TooManyRequests(ProviderError error)
    {
        if (IsQuota(error))
        {
            return AttemptOutcomeKind.QuotaExhausted;
        }

        return ErrorSignals.IsRequestTooLarge(error) ? AttemptOutcomeKind.Permanent : AttemptOutcomeKind.Throttled;
    }

    // A code naming a quota always wins; wording counts only when the error is not plainly a rate limit, because
    // OpenAI's free-tier rate-limit messages point at the billing page.
    private static bool IsQuota(ProviderError error) =>
        ErrorSignals.HasQuotaName(error) || (!ErrorSignals.IsRateLimit(error) && ErrorSignals.HasQuotaWording(error));

    // Without a Retry-After, a throttled request can go again when the budget it ran out of resets. OpenAI names
    // that budget in error.type ("requests" or "tokens"); otherwise any budget the headers report as empty counts.
    private static TimeSpan? ResetWait(RateLimitInfo limits, ProviderError error, DateTimeOffset now)
    {
        var resetAt = error.Type switch
        {
            "requests" => limits.Requests.ResetAt,
            "tokens" => limits.Tokens.ResetAt,
            _ => null,
        } ?? limits.LatestExhaustedReset;
        return resetAt is { } at ? RateLimitHeaders.ClampWait((at - now).TotalSeconds) : null;
    }
}
