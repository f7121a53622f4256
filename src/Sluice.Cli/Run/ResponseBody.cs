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
/// <item>a body that is one JSON value (after an optional UTF-8 byte-order mark and around whitespace) is validated
/// and copied without the whitespace between its tokens: pretty-printing, trailing newlines and CRLFs go, while every
/// number, string and escape stays exactly as sent;</item>
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

    // Provider bodies nest a few levels; a body nested deeper than this is kept as a string.
    private const int MaxDepth = 256;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = MaxDepth };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = MaxDepth };

    /// <summary>
    /// Writes <c>"body": …</c>, and <c>"body_encoding":"base64"</c> after it for a body that is not valid UTF-8.
    /// </summary>
    /// <param name="writer">A writer standing inside an object.</param>
    /// <param name="body">The body as received.</param>
    public static void Write(Utf8JsonWriter writer, byte[] body)
    {
        writer.WritePropertyName("body");
        if (!Utf8.IsValid(body))
        {
            writer.WriteBase64StringValue(body);
            writer.WriteString("body_encoding", Base64);
            return;
        }

        var json = WithoutBom(body);
        if (IsOneValue(json))
        {
            var compact = new ArrayBufferWriter<byte>(json.Length);
            Compact(json, compact);

            // Valid JSON with only insignificant whitespace removed and raw line separators escaped: still valid.
            writer.WriteRawValue(compact.WrittenSpan, skipInputValidation: true);
        }
        else
        {
            writer.WriteStringValue(body);
        }
    }

    /// <summary>Parses a body that is one JSON value; <see langword="false"/> for anything else, never an exception.</summary>
    /// <param name="body">The body.</param>
    /// <param name="document">The document; the caller disposes it.</param>
    /// <returns>Whether the body is JSON.</returns>
    public static bool TryParse(byte[] body, [NotNullWhen(true)] out JsonDocument? document)
    {
        document = null;
        int start = body.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        if (!IsOneValue(body.AsSpan(start)))
        {
            return false;
        }

        document = JsonDocument.Parse(body.AsMemory(start), DocumentOptions);
        return true;
    }

    /// <summary>
    /// Whether UTF-8 text is exactly one JSON value whose strings all decode: System.Text.Json accepts an escaped
    /// lone surrogate (<c>"\ud800"</c>) when it parses but cannot read it back as text, so such a body counts as text.
    /// </summary>
    private static bool IsOneValue(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            if (!reader.Read())
            {
                return false;
            }

            do
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped)
                {
                    _ = reader.GetString();
                }
            }
            while (reader.Read());   // a second value, or an incomplete one, makes the reader throw

            return true;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>
    /// Copies valid JSON without the whitespace between its tokens. Inside strings every byte is kept, except that raw
    /// U+0085, U+2028 and U+2029 — legal in JSON strings, but line breaks to some line splitters — become escapes.
    /// </summary>
    private static void Compact(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output)
    {
        bool inString = false, escaped = false;
        int run = 0;
        for (int i = 0; i < json.Length; i++)
        {
            byte b = json[i];
            if (!inString)
            {
                if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
                {
                    Replace(json, output, ref run, i, 1, default);
                }
                else
                {
                    inString = b == (byte)'"';
                }
            }
            else if (escaped)
            {
                escaped = false;
            }
            else if (b == (byte)'\\')
            {
                escaped = true;
            }
            else if (b == (byte)'"')
            {
                inString = false;
            }
            else if (b == 0xC2 && json[(i + 1)..].StartsWith((byte)0x85))
            {
                i = Replace(json, output, ref run, i, 2, "\\u0085"u8);
            }
            else if (b == 0xE2 && json[(i + 1)..] is [0x80, 0xA8 or 0xA9, ..] rest)
            {
                i = Replace(json, output, ref run, i, 3, rest[1] == 0xA8 ? "\\u2028"u8 : "\\u2029"u8);
            }
        }

        output.Write(json[run..]);
    }

    // Writes the bytes kept since the last replacement, then the replacement for json[at..at+length].
    // Returns the index of the replaced sequence's last byte, where the caller's loop continues from.
    private static int Replace(ReadOnlySpan<byte> json, ArrayBufferWriter<byte> output, ref int run, int at, int length, ReadOnlySpan<byte> replacement)
    {
        output.Write(json[run..at]);
        output.Write(replacement);
        run = at + length;
        return run - 1;
    }

    // Some servers start UTF-8 bodies with a byte-order mark, which JSON parsers reject.
    private static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> utf8) =>
        utf8.StartsWith("\uFEFF"u8) ? utf8[3..] : utf8;
}
