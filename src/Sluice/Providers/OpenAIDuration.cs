using System.Buffers;
using System.Globalization;

namespace Sluice.Providers;

/// <summary>
/// Reads durations the way OpenAI writes its <c>x-ratelimit-reset-*</c> headers, which is Go's duration format:
/// one or more <em>number unit</em> pairs such as <c>6m0s</c>, <c>1.5s</c>, <c>120ms</c>, <c>1h2m3.5s</c>, or a bare
/// <c>0</c>. Units are <c>h</c>, <c>m</c>, <c>s</c>, <c>ms</c>, <c>us</c> (<c>µs</c>) and <c>ns</c>.
/// </summary>
internal static class OpenAIDuration
{
    private static readonly SearchValues<char> NumberChars = SearchValues.Create("0123456789.");

    /// <summary>Reads a duration; anything else gives <see langword="null"/>, never an exception.</summary>
    /// <param name="value">The header value.</param>
    /// <returns>
    /// The duration, with a negative one read as zero and one beyond <see cref="RateLimitHeaders.MaxWait"/> read as
    /// that; <see langword="null"/> for text that is not a duration.
    /// </returns>
    public static TimeSpan? Parse(string? value)
    {
        if (value is null)
        {
            return null;
        }

        var text = value.AsSpan().Trim();
        var negative = false;
        if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
        {
            negative = text[0] == '-';
            text = text[1..];
        }

        // Go accepts a unitless zero and nothing else without a unit.
        if (text is "0")
        {
            return TimeSpan.Zero;
        }

        if (text.IsEmpty)
        {
            return null;
        }

        double seconds = 0;
        while (!text.IsEmpty)
        {
            var numberLength = text.IndexOfAnyExcept(NumberChars);
            if (numberLength <= 0)
            {
                return null;   // no number, or a number with no unit after it
            }

            var number = text[..numberLength];
            if (number is "." || number.Count('.') > 1 ||
                !double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return null;
            }

            text = text[numberLength..];
            var unitLength = text.IndexOfAny(NumberChars);
            var unit = unitLength < 0 ? text : text[..unitLength];
            var unitSeconds = UnitSeconds(unit);
            if (unitSeconds is null)
            {
                return null;
            }

            seconds += amount * unitSeconds.Value;
            text = text[unit.Length..];
        }

        return negative ? TimeSpan.Zero : RateLimitHeaders.ClampWait(seconds);
    }

    private static double? UnitSeconds(ReadOnlySpan<char> unit) => unit switch
    {
        "h" => 3600,
        "m" => 60,
        "s" => 1,
        "ms" => 1e-3,
        "us" or "µs" or "μs" => 1e-6,
        "ns" => 1e-9,
        _ => null,
    };
}
