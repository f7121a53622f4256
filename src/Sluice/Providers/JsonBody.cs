using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// Small, throw-free readers over JSON request and response bodies. Bodies come from callers and servers we do not
/// control, so every reader here answers "no" to malformed input instead of throwing.
/// </summary>
internal static class JsonBody
{
    // Provider bodies nest a few levels; anything much deeper is not a provider body and is not worth reading.
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 64 };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Whether the body is exactly one well-formed JSON value (an object, an array, a string, a number…).</summary>
    /// <param name="utf8">The body.</param>
    /// <returns><see langword="true"/> for a complete value with nothing but whitespace after it.</returns>
    public static bool IsWellFormedValue(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(WithoutBom(utf8), ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return false;
            }

            reader.Skip();
            return !reader.Read();   // a second top-level value makes the reader throw, caught below
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Parses a body into a document, or gives <see langword="false"/> when it is not JSON. A document given here has
    /// only strings and names that decode to valid UTF-16, so reading it never throws: System.Text.Json accepts a lone
    /// <c>\uD800</c> when parsing but throws when it is later read or compared, even by <c>TryGetProperty</c>.
    /// </summary>
    /// <param name="utf8">The body.</param>
    /// <param name="document">The document; the caller disposes it.</param>
    /// <returns>Whether the body parsed.</returns>
    public static bool TryParse(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out JsonDocument? document)
    {
        document = null;
        var trimmed = WithoutBom(utf8);
        if (trimmed.IsEmpty || !EscapesAreValid(trimmed))
        {
            return false;
        }

        try
        {
            document = JsonDocument.Parse(trimmed.ToArray(), DocumentOptions);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Finds a property of the top-level object without building a document, and hands its value to
    /// <paramref name="read"/>; cheap enough to run on every request body.
    /// </summary>
    /// <typeparam name="T">What is read from the value.</typeparam>
    /// <param name="utf8">The body.</param>
    /// <param name="name">The property's name, in UTF-8.</param>
    /// <param name="read">Reads the value; the reader stands on its first token.</param>
    /// <returns>What <paramref name="read"/> gave, or <see langword="default"/> when the property is absent or the body malformed.</returns>
    public static T? ReadTopLevel<T>(ReadOnlySpan<byte> utf8, ReadOnlySpan<byte> name, TopLevelReader<T> read)
    {
        var reader = new Utf8JsonReader(WithoutBom(utf8), ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return default;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                {
                    return read(ref reader);
                }

                reader.Skip();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Malformed JSON, or a name whose escapes are not valid UTF-16 (which ValueTextEquals cannot compare).
        }

        return default;
    }

    /// <summary>A string property of an element, or <see langword="null"/>; numbers are given as their text (Azure writes codes both ways).</summary>
    /// <param name="element">An object (anything else gives <see langword="null"/>).</param>
    /// <param name="name">The property.</param>
    /// <returns>The text, or <see langword="null"/>.</returns>
    public static string? GetText(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>The reader's current string, or <see langword="null"/> when it is not a string or not valid UTF-16.</summary>
    /// <param name="reader">A reader standing on a value.</param>
    /// <returns>The string, or <see langword="null"/>.</returns>
    public static string? StringOf(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return null;
        }

        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A whole, non-negative number property of an element, or <see langword="null"/>.</summary>
    /// <param name="element">An object (anything else gives <see langword="null"/>).</param>
    /// <param name="name">The property.</param>
    /// <returns>The number, or <see langword="null"/>.</returns>
    public static long? GetCount(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) &&
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var count) && count >= 0
            ? count
            : null;

    // Only bodies with a \u escape can hold an invalid one; those have each escaped string decoded once, up front.
    private static bool EscapesAreValid(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IndexOf("\\u"u8) < 0)
        {
            return true;
        }

        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }

            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        catch (JsonException)
        {
            return true;   // malformed: the parse that follows says so
        }
    }

    // Some servers start UTF-8 bodies with a byte-order mark, which JSON readers reject.
    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8;
}

/// <summary>Reads one value with a <see cref="Utf8JsonReader"/> standing on its first token.</summary>
/// <typeparam name="T">What is read.</typeparam>
/// <param name="reader">The reader.</param>
/// <returns>What was read.</returns>
internal delegate T? TopLevelReader<T>(ref Utf8JsonReader reader);
