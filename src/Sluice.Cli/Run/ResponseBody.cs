using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Sluice.Cli.Run;

/// <summary>
/// Puts a provider's answer body into a JSON line, whatever the server sent, so the line stays one valid line of
/// JSON (DESIGN.md: "a JSON body is re-written compactly, any other body is kept as a JSON string"):
/// <list type="bullet">
/// <item>a body that is one JSON value (after an optional UTF-8 byte-order mark and around whitespace) is parsed and
/// written again compactly: pretty-printing, trailing newlines and CRLFs go, the value stays;</item>
/// <item>any other body that is valid UTF-8 (HTML, plain text, the empty body) becomes a JSON string holding exactly
/// its text (the empty body gives <c>""</c>);</item>
/// <item>a body that is not valid UTF-8 (audio, a zip, a truncated character) becomes a JSON string of its bytes in
/// base64, marked by <c>"body_encoding":"base64"</c> beside it, so nothing is lost to replacement characters.</item>
/// </list>
/// </summary>
internal static class ResponseBody
{
    /// <summary>
    /// How output lines are written. Only what JSON requires is escaped, so model answers stay readable: the results
    /// are files, never embedded in HTML. Control characters, U+0085, U+2028 and U+2029 are still escaped, so no line
    /// splitter (Python's <c>splitlines</c> included) finds a line break inside a line.
    /// </summary>
    public static readonly JsonWriterOptions LineOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The value of <c>body_encoding</c> for a body given in base64.</summary>
    public const string Base64 = "base64";

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 256 };

    /// <summary>
    /// Writes <c>"body": …</c>, and <c>"body_encoding":"base64"</c> after it for a body that is not valid UTF-8.
    /// </summary>
    /// <param name="writer">A writer standing inside an object.</param>
    /// <param name="body">The body as received.</param>
    public static void Write(Utf8JsonWriter writer, ReadOnlySpan<byte> body)
    {
        writer.WritePropertyName("body");
        if (TryCompact(body) is { } compact)
        {
            // Made by Utf8JsonWriter just now, so it is valid, compact JSON.
            writer.WriteRawValue(compact, skipInputValidation: true);
        }
        else if (Utf8.IsValid(body))
        {
            writer.WriteStringValue(body);
        }
        else
        {
            writer.WriteBase64StringValue(body);
            writer.WriteString("body_encoding", Base64);
        }
    }

    /// <summary>Parses a body that is one JSON value; <see langword="false"/> for anything else, never an exception.</summary>
    /// <param name="body">The body.</param>
    /// <param name="document">The document; the caller disposes it.</param>
    /// <returns>Whether the body is JSON.</returns>
    public static bool TryParse(ReadOnlySpan<byte> body, [NotNullWhen(true)] out JsonDocument? document)
    {
        document = null;
        var json = WithoutBom(body);
        if (json.IsEmpty)
        {
            return false;
        }

        try
        {
            document = JsonDocument.Parse(json.ToArray(), DocumentOptions);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The body re-written as compact JSON, or null when it is not one JSON value.</summary>
    /// <param name="body">The body.</param>
    /// <returns>Compact UTF-8 JSON, or null.</returns>
    public static byte[]? TryCompact(ReadOnlySpan<byte> body)
    {
        if (!TryParse(body, out var document))
        {
            return null;
        }

        using (document)
        {
            var buffer = new ArrayBufferWriter<byte>(body.Length);
            try
            {
                using (var writer = new Utf8JsonWriter(buffer, LineOptions))
                {
                    document.RootElement.WriteTo(writer);
                }

                return buffer.WrittenSpan.ToArray();
            }
            catch (InvalidOperationException)
            {
                // The parser accepts an escaped lone surrogate ("\ud800") that cannot be written back as text: such a
                // body is not usable JSON, so it is kept as a string like any other text.
                return null;
            }
        }
    }

    // Some servers start UTF-8 bodies with a byte-order mark, which JSON parsers reject.
    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8;
}
