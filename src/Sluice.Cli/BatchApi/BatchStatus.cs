using System.Text.Json;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// What the provider says of one batch (the fields of OpenAI's batch object that a run uses): its id and status
/// (<c>validating</c>, <c>in_progress</c>, <c>finalizing</c>, <c>completed</c>, <c>failed</c>, <c>expired</c>,
/// <c>cancelling</c>, <c>cancelled</c>), its output and error files, its request counts, its metadata, and the
/// first of its <c>errors</c> when it failed as a whole.
/// </summary>
internal sealed record BatchStatus(string Id, string Status, string? OutputFileId, string? ErrorFileId, int Total, int Completed, int Failed, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The batch's own error (a failed validation, a token limit), as code and message.</summary>
    public (string Code, string Message)? Error { get; init; }

    /// <summary>When the provider created it (Anthropic's batches are found again by it); null when not given.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>The batch has ended: its files, if any, are final.</summary>
    public bool Ended => Status is "completed" or "failed" or "expired" or "cancelled";

    public static BatchStatus Parse(JsonElement batch)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (batch.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in meta.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    metadata[property.Name] = property.Value.GetString()!;
                }
            }
        }

        int total = 0, completed = 0, failed = 0;
        if (batch.TryGetProperty("request_counts", out var counts) && counts.ValueKind == JsonValueKind.Object)
        {
            total = Count(counts, "total");
            completed = Count(counts, "completed");
            failed = Count(counts, "failed");
        }

        (string, string)? error = null;
        if (batch.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object
            && errors.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0)
        {
            var first = data[0];
            error = (Text(first, "code") ?? "batch_failed", Text(first, "message") ?? "the batch failed");
        }

        return new BatchStatus(Text(batch, "id") ?? "", Text(batch, "status") ?? "", Text(batch, "output_file_id"), Text(batch, "error_file_id"), total, completed, failed, metadata)
        {
            Error = error,
        };
    }

    private static int Count(JsonElement counts, string name) =>
        counts.TryGetProperty(name, out var value) && value.TryGetInt32(out int count) ? count : 0;

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
