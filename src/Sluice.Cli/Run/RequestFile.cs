using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Sluice.Cli.Common;
using Sluice.Providers;

namespace Sluice.Cli.Run;

/// <summary>
/// A batch file in the OpenAI Batch API request format, read as a stream, never whole: one pass validates every
/// line (and fingerprints the file), a second yields the requests to send. Blank lines are ignored.
/// </summary>
internal static class RequestFile
{
    /// <summary>How many problems are described one by one; the rest are counted.</summary>
    public const int ProblemsShown = 20;

    /// <summary>The longest <c>custom_id</c>, in UTF-16 characters: it travels in a header (percent-encoded, up to nine bytes a character) that proxies must accept.</summary>
    public const int MaxCustomIdLength = 512;

    /// <summary>
    /// Checks every line: UTF-8, at most <see cref="BatchLineReader.DefaultMaxLineBytes"/> bytes, a JSON object, a unique
    /// non-empty string <c>custom_id</c> without control characters, <c>method</c> POST, a <c>url</c> Sluice knows,
    /// an object <c>body</c> that does not ask for a stream. Duplicate detection keeps one dictionary entry per id
    /// (about 100 bytes each: ~100 MB for 1,000,000 lines).
    /// </summary>
    public static async Task<Validation> ValidateAsync(string path, CancellationToken cancellationToken)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            var stamp = FileStamp.Of(path);
            var validation = await ValidateAsync(stream, BatchLineReader.DefaultMaxLineBytes, cancellationToken).ConfigureAwait(false);
            return validation with { Stamp = stamp };
        }
    }

    /// <summary>Checks every line of <paramref name="stream"/>; lines longer than <paramref name="maxLineBytes"/> are problems.</summary>
    public static async Task<Validation> ValidateAsync(Stream stream, int maxLineBytes, CancellationToken cancellationToken)
    {
        var firstSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<LineProblem>();
        int problemCount = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var reader = new BatchLineReader(stream, hash, maxLineBytes);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            string? customId = null;
            string? problem = Decode(line, reader, out string? text);
            if (problem is null)
            {
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                problem = Check(text!, out customId);
            }

            if (customId is not null && !firstSeen.TryAdd(customId, line.Number))
            {
                problem = Also(problem, $"duplicate custom_id {Quote(customId)} (first on line {firstSeen[customId]})");
            }

            if (problem is not null)
            {
                problemCount++;
                if (problems.Count < ProblemsShown)
                {
                    problems.Add(new LineProblem(line.Number, problem));
                }
            }
        }

        return new Validation(firstSeen.Count, problems, problemCount, Convert.ToHexStringLower(hash.GetHashAndReset()))
        {
            Bytes = reader.Position,
        };
    }

    /// <summary>
    /// The file's requests in order, skipping those whose id is in <paramref name="skip"/>. The file must be the one
    /// <paramref name="validated"/> describes: a file changed since (its size, time or bytes, or a line that no longer
    /// checks) ends the reading with <see cref="InputChangedException"/> before the changed line is sent.
    /// </summary>
    public static async IAsyncEnumerable<RequestLine> ReadAsync(string path, Validation validated, IReadOnlySet<string> skip, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var reader = new BatchLineReader(stream, hash);
            long nextCheck = 0;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                // At the first line, then once per 64 KiB rather than per line: a write to the file shows in its size or time.
                if (reader.Position >= nextCheck)
                {
                    nextCheck = reader.Position + (1 << 16);
                    if (validated.Stamp is { } stamp && FileStamp.Of(path) != stamp)
                    {
                        throw new InputChangedException(path, line.Number);
                    }
                }

                if (Decode(line, reader, out string? text) is not null)
                {
                    throw new InputChangedException(path, line.Number);
                }

                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                // Parsed once, not checked again: a line that no longer has the shape validation saw means the file
                // changed, and any other change shows in the fingerprint at the end.
                var request = Shape(text!, line.Number);
                if (request is null)
                {
                    throw new InputChangedException(path, line.Number);
                }

                if (!skip.Contains(request.CustomId))
                {
                    yield return request;
                }
            }

            if (reader.Position != validated.Bytes || !string.Equals(Convert.ToHexStringLower(hash.GetHashAndReset()), validated.Fingerprint, StringComparison.Ordinal))
            {
                throw new InputChangedException(path, lineNumber: null);
            }
        }
    }

    // The request a validated line holds, or null when the line does not have a request's shape.
    private static RequestLine? Shape(string text, int lineNumber)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String && TryGetString(id, out string? customId) && CustomIdProblem(customId) is null
                && root.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String && TryGetString(url, out string? path)
                && root.TryGetProperty("body", out var body) && body.ValueKind == JsonValueKind.Object
                ? new RequestLine(lineNumber, customId, path, Encoding.UTF8.GetBytes(body.GetRawText()))
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The line's text, or why it has none: too long, UTF-16, or not UTF-8 (named by the byte and its offset in the file).
    private static string? Decode(RawLine line, BatchLineReader reader, out string? text)
    {
        text = null;
        if (line.TooLong)
        {
            return $"the line is {line.Length:N0} bytes long; the most is {reader.MaxLineBytes:N0}";
        }

        var bytes = line.Bytes.Span;
        if (line.Number == 1 && reader.StartsAsUtf16)
        {
            return $"the file is UTF-16 (it starts with the byte-order mark {bytes[0]:X2} {bytes[1]:X2}); save it as UTF-8";
        }

        char[] chars = ArrayPool<char>.Shared.Rent(Math.Max(1, bytes.Length));
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out int read, out int written, replaceInvalidSequences: false, isFinalBlock: true);
            if (status != OperationStatus.Done)
            {
                return $"not valid UTF-8: byte 0x{bytes[read]:X2} at byte offset {line.Offset + read} of the file";
            }

            text = new string(chars, 0, written);
            return null;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

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
    private static string Also(string? problems, string problem) => problems is null ? problem : $"{problems}; {problem}";

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
    private static bool TryGetString(JsonElement element, [NotNullWhen(true)] out string? value)
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
    private static string Quote(string value) => JsonSerializer.Serialize(Shorten(value), QuoteOptions);

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

    /// <summary>The result of the validation pass.</summary>
    /// <param name="Requests">Valid, distinct requests.</param>
    /// <param name="Problems">The first <see cref="ProblemsShown"/> problems.</param>
    /// <param name="ProblemCount">Every problem, counted.</param>
    /// <param name="Fingerprint">SHA-256 of the file's bytes, hex.</param>
    internal sealed record Validation(int Requests, IReadOnlyList<LineProblem> Problems, int ProblemCount, string Fingerprint)
    {
        /// <summary>The file's length as read.</summary>
        public long Bytes { get; init; }

        /// <summary>The file's size and time when validation began; null for a stream.</summary>
        public FileStamp? Stamp { get; init; }
    }
}
