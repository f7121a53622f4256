using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sluice.Cli.Common;
using Sluice.Providers;

namespace Sluice.Cli.Run;

/// <summary>
/// What makes one line of a batch file a request Sluice can send, and the words for what does not: each problem names
/// the field and quotes the offending value, one line of printable text whatever the value holds.
/// </summary>
internal static class RequestLineCheck
{
    /// <summary>The longest <c>custom_id</c>, in UTF-16 characters: it travels in a header (percent-encoded, up to nine bytes a character) that proxies must accept.</summary>
    public const int MaxCustomIdLength = 512;

    /// <summary>
    /// What is wrong with one line, or null: every problem with its fields, joined with "; ", so one pass over the file
    /// names all there is to fix. A line that is not a JSON object has only that problem.
    /// </summary>
    public static string? Check(string text, out string? customId)
    {
        customId = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException exception)
        {
            // The parser's message quotes the offending character as it is, control characters included.
            return $"not valid JSON ({TerminalText.Escape(exception.Message.Split(" Path:")[0].TrimEnd('.'))}): {Excerpt(text)}";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return $"not a JSON object: {Excerpt(text)}";
            }

            string? problems = null;
            if (!root.TryGetProperty("custom_id", out var id) || id.ValueKind == JsonValueKind.Null)
            {
                problems = Also(problems, "missing custom_id");
            }
            else if (id.ValueKind != JsonValueKind.String)
            {
                problems = Also(problems, $"custom_id must be a non-empty string, not {Excerpt(id.GetRawText())}");
            }
            else if (!TryGetString(id, out string? idText))
            {
                problems = Also(problems, $"custom_id is not valid Unicode (a lone surrogate escape): {Excerpt(id.GetRawText())}");
            }
            else if (string.IsNullOrWhiteSpace(idText))
            {
                problems = Also(problems, $"custom_id must be a non-empty string, not {Excerpt(id.GetRawText())}");
            }
            else if (CustomIdProblem(idText) is { } idProblem)
            {
                problems = Also(problems, idProblem);
            }
            else
            {
                customId = idText;
            }

            if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                problems = Also(problems, "missing method (it must be \"POST\")");
            }
            else if (!TryGetString(method, out string? methodText))
            {
                problems = Also(problems, $"method is not valid Unicode (a lone surrogate escape): {Excerpt(method.GetRawText())}");
            }
            else if (!string.Equals(methodText, "POST", StringComparison.Ordinal))
            {
                problems = Also(problems, $"method must be \"POST\", not {Quote(methodText)}");
            }

            if (!root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String)
            {
                problems = Also(problems, "missing url (such as \"/v1/chat/completions\")");
            }
            else if (!TryGetString(url, out string? path))
            {
                problems = Also(problems, $"url is not valid Unicode (a lone surrogate escape): {Excerpt(url.GetRawText())}");
            }
            else if (!path.StartsWith('/') || path.Contains("://", StringComparison.Ordinal) || ApiEndpoints.FromPath(path) == ApiEndpoint.Unknown)
            {
                problems = Also(problems, $"unknown url {Quote(path)} (expected a path such as /v1/chat/completions, /v1/embeddings, /v1/responses or /v1/messages)");
            }
            else if (TerminalText.Escape(path) != path)
            {
                problems = Also(problems, $"url {Quote(path)} holds a control character");
            }
            else if (LeavesThePath(path))
            {
                problems = Also(problems, $"url {Quote(path)} holds a . or .. segment or a backslash, which would leave the API's path; write the path itself");
            }

            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                problems = Also(problems, "missing body (a JSON object)");
            }
            else if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
            {
                problems = Also(problems, "body asks for \"stream\": true, which batch lines cannot use");
            }

            return problems;
        }
    }

    // Problems are rare: a string per problem line, nothing for the million good ones.
    public static string Also(string? problems, string problem) => problems is null ? problem : $"{problems}; {problem}";

    /// <summary>
    /// Why an id cannot be used, or null. Control characters are refused rather than carried: an id with a line
    /// break, a tab or an escape sequence is almost surely a mistake, would split or recolour the lines that report
    /// it, and cannot be joined back reliably. Everything else in Unicode is an id.
    /// </summary>
    public static string? CustomIdProblem(string id)
    {
        int control = id.AsSpan().IndexOfAnyInRange('\u0000', '\u001F');
        int other = id.AsSpan().IndexOfAnyInRange('\u007F', '\u009F');
        int at = control < 0 ? other : other < 0 ? control : Math.Min(control, other);
        if (at >= 0)
        {
            return $"custom_id must not contain control characters (U+{(int)id[at]:X4} at position {at + 1}): {Quote(id)}";
        }

        return id.Length > MaxCustomIdLength ? $"custom_id is {id.Length:N0} characters long; the most is {MaxCustomIdLength}: {Quote(id)}" : null;
    }

    // "/v1/../../admin/chat/completions" ends like an endpoint, but the URL it makes is resolved to "/admin/...": a
    // request (with the key) outside the API. Encoded dots count, even encoded twice (%252e), as a Uri or a server
    // may decode them.
    private static bool LeavesThePath(string path)
    {
        int query = path.IndexOf('?', StringComparison.Ordinal);
        string decoded = query < 0 ? path : path[..query];
        for (int pass = 0; pass < 3; pass++)
        {
            if (decoded.Contains('\\', StringComparison.Ordinal) || decoded.Split('/').Any(segment => segment is "." or ".."))
            {
                return true;
            }

            decoded = Uri.UnescapeDataString(decoded);
        }

        return false;
    }

    // GetString throws on an escaped lone surrogate ("\ud800"), which no UTF-8 text can hold.
    public static bool TryGetString(JsonElement element, [NotNullWhen(true)] out string? value)
    {
        try
        {
            value = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    // Quoted as JSON: control characters escaped, so a report line is one line and cannot drive the terminal; the
    // rest of Unicode kept readable.
    public static string Quote(string value) => JsonSerializer.Serialize(Shorten(value), QuoteOptions);

    private static readonly JsonSerializerOptions QuoteOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // A line as it was, shortened, with its control characters written as \uXXXX for the same reason.
    private static string Excerpt(string text) => TerminalText.Escape(Shorten(text));

    private static string Shorten(string text)
    {
        if (text.Length <= 80)
        {
            return text;
        }

        int cut = char.IsHighSurrogate(text[79]) ? 79 : 80;
        return text[..cut] + "…";
    }
}
