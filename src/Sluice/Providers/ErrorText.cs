using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sluice.Providers;

/// <summary>
/// Turns a provider's error into a sentence for people and logs: its status, its code and its own message, truncated,
/// with anything that looks like a credential removed. Header values are never used, because some carry keys.
/// </summary>
internal static partial class ErrorText
{
    /// <summary>The most characters of a provider's message kept in an error; the rest is cut with an ellipsis.</summary>
    public const int MaxMessageLength = 300;

    // Redaction runs on a bounded prefix so a huge body costs little; only MaxMessageLength of it survives anyway.
    private const int MaxScannedLength = 2_000;

    private const string Redacted = "[redacted]";

    /// <summary>Describes a failed answer, such as <c>HTTP 429 (rate_limit_exceeded): Rate limit reached for …</c>.</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="error">What the body said.</param>
    /// <returns>The sentence.</returns>
    public static string Describe(int statusCode, ProviderError error)
    {
        var status = "HTTP " + statusCode.ToString(CultureInfo.InvariantCulture);
        var name = error.Name is { Length: > 0 } n ? $" ({Clean(n, 60)})" : string.Empty;
        return error.Message is { Length: > 0 } message
            ? $"{status}{name}: {Clean(message, MaxMessageLength)}"
            : $"{status}{name} with no error message in the body";
    }

    /// <summary>Makes provider text safe to show: credentials redacted, control characters and runs of spaces folded, length capped.</summary>
    /// <param name="text">The provider's text.</param>
    /// <param name="maxLength">The most characters kept.</param>
    /// <returns>The cleaned text.</returns>
    public static string Clean(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var scanned = text.Length > MaxScannedLength ? text[..MaxScannedLength] : text;
        scanned = SecretKey().Replace(scanned, Redacted);
        scanned = BearerToken().Replace(scanned, "Bearer " + Redacted);
        scanned = OpaqueToken().Replace(scanned, Redacted);

        var builder = new StringBuilder(Math.Min(scanned.Length, maxLength + 1));
        var lastWasSpace = false;
        foreach (var c in scanned)
        {
            var space = char.IsWhiteSpace(c) || char.IsControl(c);
            if (space && (lastWasSpace || builder.Length == 0))
            {
                continue;
            }

            builder.Append(space ? ' ' : c);
            lastWasSpace = space;
        }

        var cleaned = builder.ToString().TrimEnd();
        if (cleaned.Length <= maxLength)
        {
            return cleaned;
        }

        // Never split a surrogate pair: half a character is not text.
        var cut = char.IsHighSurrogate(cleaned[maxLength - 1]) ? maxLength - 1 : maxLength;
        return string.Concat(cleaned.AsSpan(0, cut).TrimEnd(), "…");
    }

    // OpenAI (sk-, sk-proj-) and Anthropic (sk-ant-) keys, whole or masked as OpenAI echoes them ("sk-proj-****abcd").
    [GeneratedRegex(@"\bsk-[A-Za-z0-9_\-\*]+", RegexOptions.NonBacktracking)]
    private static partial Regex SecretKey();

    [GeneratedRegex(@"[Bb]earer\s+[^\s,;]+", RegexOptions.NonBacktracking)]
    private static partial Regex BearerToken();

    // Azure keys are 32 hex characters; other opaque tokens are longer. No word, model name or snake_case error code
    // is a run of 32 letters and digits.
    [GeneratedRegex(@"[A-Za-z0-9]{32,}", RegexOptions.NonBacktracking)]
    private static partial Regex OpaqueToken();
}
