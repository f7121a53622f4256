using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Sluice.Cli.Run;

/// <summary>
/// A batch file in the OpenAI Batch API request format, read as a stream, never whole: one pass validates every
/// line (and fingerprints the file), a second yields the requests to send. Blank lines are ignored.
/// </summary>
internal static class RequestFile
{
    /// <summary>How many problems are described one by one; the rest are counted.</summary>
    public const int ProblemsShown = 20;

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

                problem = RequestLineCheck.Check(text!, out customId);
            }

            if (customId is not null && !firstSeen.TryAdd(customId, line.Number))
            {
                problem = RequestLineCheck.Also(problem, $"duplicate custom_id {RequestLineCheck.Quote(customId)} (first on line {firstSeen[customId]})");
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
                && root.TryGetProperty("custom_id", out var id) && id.ValueKind == JsonValueKind.String && RequestLineCheck.TryGetString(id, out string? customId) && RequestLineCheck.CustomIdProblem(customId) is null
                && root.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String && RequestLineCheck.TryGetString(url, out string? path)
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
