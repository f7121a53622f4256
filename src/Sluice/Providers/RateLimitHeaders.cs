using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;

namespace Sluice.Providers;

/// <summary>
/// Reads every rate-limit header the supported providers send. Each parser ignores what it cannot read (giving
/// <see langword="null"/>) and never throws: a gateway's odd header must not fail a request that succeeded.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>retry-after</c>: whole or fractional seconds, or an HTTP date; a negative or past value means "now".</item>
/// <item><c>retry-after-ms</c> (OpenAI) and <c>x-ms-retry-after-ms</c> (Azure): milliseconds. They are more precise
/// than <c>retry-after</c>, so they win over it.</item>
/// <item>OpenAI <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}</c>, resets as durations (<c>6m0s</c>).</item>
/// <item>Anthropic <c>anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}</c>,
/// resets as RFC 3339 instants.</item>
/// <item>Per-minute and per-day budgets named by their window, as Cerebras states them:
/// <c>x-ratelimit-{limit,remaining,reset}-{requests,tokens}-{minute,day}</c>, resets in seconds.</item>
/// </list>
/// </remarks>
internal static class RateLimitHeaders
{
    /// <summary>
    /// The longest wait any header is read as: longer claims (a typo, a far-off date) are clamped so that time
    /// arithmetic downstream cannot overflow. A wait this long parks a partition; it is never slept through silently.
    /// </summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromDays(30);

    // A bare reset number above this many seconds (about 31 years) cannot be a delay, so it is read as a Unix time.
    private const double UnixTimeThreshold = 1_000_000_000;

    private static readonly SearchValues<char> DecimalChars = SearchValues.Create("0123456789.-+");

    private static readonly string[] HttpDateFormats =
    [
        "r",                                    // RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT
        "dddd, dd-MMM-yy HH:mm:ss 'GMT'",       // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
        "ddd MMM d HH:mm:ss yyyy",              // asctime: Sun Nov  6 08:49:37 1994
    ];

    private static readonly string[] Rfc3339Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ssK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>Reads every rate-limit header of a response.</summary>
    /// <param name="headers">The response's headers.</param>
    /// <param name="now">The time the response arrived: durations become instants from it.</param>
    /// <returns>What the headers said; parts that were absent or unreadable are <see langword="null"/>.</returns>
    public static RateLimitInfo Parse(HttpResponseHeaders headers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(headers);

        var retryAfter = First(headers, "retry-after-ms", ParseMilliseconds)
            ?? First(headers, "x-ms-retry-after-ms", ParseMilliseconds)
            ?? First(headers, "retry-after", value => ParseRetryAfter(value, now));

        return new RateLimitInfo(
            retryAfter,
            Requests: Either(Anthropic(headers, "requests", now), Either(OpenAI(headers, "requests", now), OpenAI(headers, "requests-minute", now))),
            Tokens: Either(Anthropic(headers, "tokens", now), Either(OpenAI(headers, "tokens", now), OpenAI(headers, "tokens-minute", now))),
            InputTokens: Anthropic(headers, "input-tokens", now),
            OutputTokens: Anthropic(headers, "output-tokens", now))
        {
            RequestsPerDay = OpenAI(headers, "requests-day", now),
            TokensPerDay = OpenAI(headers, "tokens-day", now),
        };
    }

    /// <summary>Reads an OpenAI reset duration such as <c>6m0s</c>, <c>1.5s</c>, <c>120ms</c> or <c>0s</c>.</summary>
    /// <param name="value">The header value.</param>
    /// <returns>The duration (negative read as zero), or <see langword="null"/> for anything else.</returns>
    public static TimeSpan? ParseOpenAIDuration(string value) => OpenAIDuration.Parse(value);

    /// <summary>Reads a <c>retry-after</c> value: whole or fractional seconds, or an HTTP date.</summary>
    /// <param name="value">The header value.</param>
    /// <param name="now">The time the response arrived, for a date.</param>
    /// <returns>The wait, never negative; <see langword="null"/> for anything else.</returns>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (value is null)
        {
            return null;
        }

        if (TryParseDecimal(value, out var seconds))
        {
            return ClampWait(seconds);
        }

        return DateTimeOffset.TryParseExact(
            value.Trim(), HttpDateFormats, CultureInfo.InvariantCulture,
            DateTimeStyles.AllowInnerWhite | DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
            ? ClampWait((date - now).TotalSeconds)
            : null;
    }

    /// <summary>Reads a <c>retry-after-ms</c> or <c>x-ms-retry-after-ms</c> value: milliseconds, possibly fractional.</summary>
    /// <param name="value">The header value.</param>
    /// <returns>The wait, never negative; <see langword="null"/> for anything else.</returns>
    public static TimeSpan? ParseMilliseconds(string? value) =>
        TryParseDecimal(value, out var milliseconds) ? ClampWait(milliseconds / 1000) : null;

    /// <summary>Reads a whole count such as a limit or what remains of it.</summary>
    /// <param name="value">The header value.</param>
    /// <returns>The count as written (it may be negative), or <see langword="null"/> when it is not a whole number.</returns>
    public static long? ParseCount(string? value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite | NumberStyles.AllowTrailingWhite,
            CultureInfo.InvariantCulture, out var count) ? count : null;

    /// <summary>
    /// Reads an OpenAI <c>x-ratelimit-reset-*</c> value as an instant: a duration from <paramref name="now"/>. Some
    /// OpenAI-compatible servers write a bare number instead; it is read as seconds, or as a Unix time when it is too
    /// large to be a delay.
    /// </summary>
    /// <param name="value">The header value.</param>
    /// <param name="now">The time the response arrived.</param>
    /// <returns>When the budget is whole again, or <see langword="null"/>.</returns>
    public static DateTimeOffset? ParseResetDuration(string? value, DateTimeOffset now)
    {
        if (value is null)
        {
            return null;
        }

        if (OpenAIDuration.Parse(value) is { } duration)
        {
            return now + duration;
        }

        if (!TryParseDecimal(value, out var seconds))
        {
            return null;
        }

        if (seconds < UnixTimeThreshold)
        {
            return now + ClampWait(seconds)!.Value;
        }

        var untilReset = ClampWait(seconds - now.ToUnixTimeMilliseconds() / 1000.0)!.Value;
        return now + untilReset;
    }

    /// <summary>Reads an RFC 3339 instant such as <c>2025-06-01T12:00:30Z</c>, as Anthropic writes its resets.</summary>
    /// <param name="value">The header value.</param>
    /// <returns>The instant in UTC, or <see langword="null"/>.</returns>
    public static DateTimeOffset? ParseInstant(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = TrimFraction(value.Trim());
        return DateTimeOffset.TryParseExact(
            text, Rfc3339Formats, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant)
            ? instant
            : null;
    }

    /// <summary>Turns a number of seconds into a wait: zero when negative, at most <see cref="MaxWait"/>, exact to the tick.</summary>
    /// <param name="seconds">The seconds a provider asked for.</param>
    /// <returns>The wait, or <see langword="null"/> for a NaN.</returns>
    internal static TimeSpan? ClampWait(double seconds)
    {
        if (double.IsNaN(seconds))
        {
            return null;
        }

        if (seconds <= 0)
        {
            return TimeSpan.Zero;
        }

        return seconds >= MaxWait.TotalSeconds
            ? MaxWait
            : TimeSpan.FromTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond));
    }

    private static BudgetHeader OpenAI(HttpResponseHeaders headers, string name, DateTimeOffset now) => Budget(
        First(headers, $"x-ratelimit-limit-{name}", ParseCount),
        First(headers, $"x-ratelimit-remaining-{name}", ParseCount),
        First(headers, $"x-ratelimit-reset-{name}", value => ParseResetDuration(value, now)));

    // An instant is held, like every other wait, to at most MaxWait from now: a reset in the year 9999 is a typo, and
    // read as written it would hold a budget empty for ever.
    private static BudgetHeader Anthropic(HttpResponseHeaders headers, string name, DateTimeOffset now) => Budget(
        First(headers, $"anthropic-ratelimit-{name}-limit", ParseCount),
        First(headers, $"anthropic-ratelimit-{name}-remaining", ParseCount),
        First(headers, $"anthropic-ratelimit-{name}-reset", value => HeldToMaxWait(ParseInstant(value), now)));

    private static DateTimeOffset? HeldToMaxWait(DateTimeOffset? instant, DateTimeOffset now) =>
        instant - now > MaxWait ? now + MaxWait : instant;

    // A negative limit means nothing; a negative remainder (an over-spent budget) means nothing is left.
    private static BudgetHeader Budget(long? limit, long? remaining, DateTimeOffset? resetAt) =>
        new(limit < 0 ? null : limit, remaining < 0 ? 0 : remaining, resetAt);

    // A response carries one provider's headers; if both appear, Anthropic's (the rarer, more specific) win part by part.
    private static BudgetHeader Either(BudgetHeader preferred, BudgetHeader other) =>
        new(preferred.Limit ?? other.Limit, preferred.Remaining ?? other.Remaining, preferred.ResetAt ?? other.ResetAt);

    // Headers may repeat; the first value that reads wins. NonValidated never parses, so it never throws on garbage.
    private static T? First<T>(HttpResponseHeaders headers, string name, Func<string, T?> parse)
        where T : struct
    {
        if (!headers.NonValidated.TryGetValues(name, out var values))
        {
            return null;
        }

        foreach (var value in values)
        {
            if (parse(value) is { } parsed)
            {
                return parsed;
            }
        }

        return null;
    }

    // Plain decimal text only: double.TryParse alone would also take "Infinity", "NaN" and exponents.
    private static bool TryParseDecimal(string? value, out double number)
    {
        number = 0;
        var text = value.AsSpan().Trim();
        return !text.IsEmpty && text.IndexOfAnyExcept(DecimalChars) < 0 &&
            double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number) &&
            double.IsFinite(number);
    }

    // RFC 3339 allows any number of fractional digits; .NET's format strings take at most seven.
    private static string TrimFraction(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return text;
        }

        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end - dot - 1 <= 7 ? text : string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end));
    }
}
