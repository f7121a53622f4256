using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
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

    /// <summary>
    /// Checks every line: JSON object, a unique non-empty string <c>custom_id</c>, <c>method</c> POST, a
    /// <c>url</c> Sluice knows, an object <c>body</c> that does not ask for a stream. Duplicate detection keeps one
    /// dictionary entry per id (about 100 bytes each: ~100 MB for 1,000,000 lines).
    /// </summary>
    public static async Task<Validation> ValidateAsync(string path, CancellationToken cancellationToken)
    {
        var firstSeen = new Dictionary<string, int>(StringComparer.Ordinal);
        var problems = new List<LineProblem>();
        int problemCount = 0;
        int lineNumber = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(new HashingStream(stream, hash), Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                string? problem = Check(text, out string? customId);
                if (customId is not null && !firstSeen.TryAdd(customId, lineNumber))
                {
                    problem = Also(problem, $"duplicate custom_id {Quote(customId)} (first on line {firstSeen[customId]})");
                }

                if (problem is not null)
                {
                    problemCount++;
                    if (problems.Count < ProblemsShown)
                    {
                        problems.Add(new LineProblem(lineNumber, problem));
                    }
                }
            }
        }

        return new Validation(firstSeen.Count, problems, problemCount, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>The file's requests in order, skipping those whose id is in <paramref name="skip"/>. The file must have validated.</summary>
    public static async IAsyncEnumerable<RequestLine> ReadAsync(string path, IReadOnlySet<string> skip, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            int lineNumber = 0;
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                string customId = root.GetProperty("custom_id").GetString()!;
                if (skip.Contains(customId))
                {
                    continue;
                }

                yield return new RequestLine(
                    lineNumber,
                    customId,
                    root.GetProperty("url").GetString()!,
                    Encoding.UTF8.GetBytes(root.GetProperty("body").GetRawText()));
            }
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
            return $"not valid JSON ({exception.Message.Split(" Path:")[0].TrimEnd('.')}): {Excerpt(text)}";
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
            else if (id.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(id.GetString()))
            {
                problems = Also(problems, $"custom_id must be a non-empty string, not {Excerpt(id.GetRawText())}");
            }
            else
            {
                customId = id.GetString();
            }

            if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String)
            {
                problems = Also(problems, "missing method (it must be \"POST\")");
            }
            else if (!string.Equals(method.GetString(), "POST", StringComparison.Ordinal))
            {
                problems = Also(problems, $"method must be \"POST\", not {Quote(method.GetString()!)}");
            }

            if (!root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String)
            {
                problems = Also(problems, "missing url (such as \"/v1/chat/completions\")");
            }
            else if (url.GetString() is var path && (!path!.StartsWith('/') || path.Contains("://", StringComparison.Ordinal) || ApiEndpoints.FromPath(path) == ApiEndpoint.Unknown))
            {
                problems = Also(problems, $"unknown url {Quote(path)} (expected a path such as /v1/chat/completions, /v1/embeddings, /v1/responses or /v1/messages)");
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

    private static string Quote(string value) => JsonSerializer.Serialize(value.Length > 80 ? value[..80] + "…" : value);

    private static string Excerpt(string text) => text.Length > 80 ? text[..80] + "…" : text;

    /// <summary>The result of the validation pass.</summary>
    /// <param name="Requests">Valid, distinct requests.</param>
    /// <param name="Problems">The first <see cref="ProblemsShown"/> problems.</param>
    /// <param name="ProblemCount">Every problem, counted.</param>
    /// <param name="Fingerprint">SHA-256 of the file's bytes, hex.</param>
    internal sealed record Validation(int Requests, IReadOnlyList<LineProblem> Problems, int ProblemCount, string Fingerprint);

    // Hashes what the reader reads, so validating and fingerprinting take one pass over the file.
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int read = inner.Read(buffer, offset, count);
            hash.AppendData(buffer, offset, read);
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            hash.AppendData(buffer.Span[..read]);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
