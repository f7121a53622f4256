using System.Text.Json;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// Checks an OpenAI batch input file line by line: each is a JSON object with <c>custom_id</c>, <c>method</c>
/// <c>POST</c>, a batchable <c>url</c> and a <c>body</c> naming a <c>model</c>; ids are unique, every line names
/// the same model and endpoint, and there are at most the allowed lines. Errors name the line.
/// </summary>
internal static class BatchFileValidator
{
    public static (IReadOnlyList<BatchFileLine>? Lines, ApiError? Error) Validate(ReadOnlyMemory<byte> content, int maxLines)
    {
        var lines = new List<BatchFileLine>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var span = content.Span;
        var start = 0;
        var number = 0;
        while (start < span.Length)
        {
            number++;
            var end = span[start..].IndexOf((byte)'\n');
            var length = end < 0 ? span.Length - start : end;
            var text = span.Slice(start, length);
            if (text.Length > 0 && text[^1] == '\r')
            {
                text = text[..^1];
            }

            if (lines.Count == maxLines)
            {
                return (null, Invalid("batch_too_large",
                    $"The batch input file has more than the maximum of {maxLines} requests per batch (line {number})."));
            }

            var (line, problem) = ReadLine(text, number, start, length);
            if (problem is not null)
            {
                return (null, Invalid(problem.Value.Code, $"Line {number}: {problem.Value.Message}"));
            }

            if (!ids.Add(line!.CustomId))
            {
                return (null, Invalid("duplicate_custom_id", $"Line {number}: the custom_id '{line.CustomId}' is used by another line; custom_id values must be unique within a batch."));
            }

            if (lines.Count > 0 && line.Model != lines[0].Model)
            {
                return (null, Invalid("mismatched_model", $"Line {number}: the model '{line.Model}' differs from '{lines[0].Model}' on line 1; a batch input file may name only one model."));
            }

            if (lines.Count > 0 && line.Url != lines[0].Url)
            {
                return (null, Invalid("mismatched_url", $"Line {number}: the url '{line.Url}' differs from '{lines[0].Url}' on line 1; a batch input file may target only one endpoint."));
            }

            lines.Add(line);
            start += length + 1;
        }

        return lines.Count == 0
            ? (null, Invalid("empty_file", "The batch input file is empty: it must have at least one request line."))
            : (lines, null);
    }

    private static (BatchFileLine? Line, (string Code, string Message)? Problem) ReadLine(ReadOnlySpan<byte> text, int number, int start, int length)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text.ToArray());
        }
        catch (JsonException)
        {
            return (null, ("invalid_json_line", "this line is not valid JSON. Each line must be one JSON object."));
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, ("invalid_json_line", "this line is not a JSON object."));
            }

            if (!root.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String || id.GetString()!.Length == 0)
            {
                return (null, ("missing_custom_id", "'custom_id' is missing or is not a non-empty string."));
            }

            if (!root.TryGetProperty("method", out var method) || method.ValueKind != JsonValueKind.String || method.GetString() != "POST")
            {
                return (null, ("invalid_method", "'method' must be \"POST\"."));
            }

            if (!root.TryGetProperty("url", out var url) || url.ValueKind != JsonValueKind.String || !BatchAnswers.OpenAIEndpoints.Contains(url.GetString()))
            {
                return (null, ("invalid_url", $"'url' must be one of {string.Join(", ", BatchAnswers.OpenAIEndpoints)}."));
            }

            if (!root.TryGetProperty("body", out var body) || body.ValueKind != JsonValueKind.Object)
            {
                return (null, ("missing_body", "'body' is missing or is not a JSON object."));
            }

            if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString()!.Length == 0)
            {
                return (null, ("missing_model", "'body.model' is missing or is not a string."));
            }

            return (new BatchFileLine(number, start, length, id.GetString()!, url.GetString()!, model.GetString()!), null);
        }
    }

    private static ApiError Invalid(string code, string message) => new(400, "invalid_request_error", message, "file", code, "invalid_request");
}
