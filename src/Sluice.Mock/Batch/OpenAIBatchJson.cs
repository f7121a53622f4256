using System.Text.Json;

namespace Sluice.Mock.Batch;

/// <summary>Writes OpenAI's batch object, with every field OpenAI documents, null where it has no value yet.</summary>
internal static class OpenAIBatchJson
{
    public static string Status(BatchPhase phase) => phase switch
    {
        BatchPhase.Validating => "validating",
        BatchPhase.InProgress => "in_progress",
        BatchPhase.Finalizing => "finalizing",
        BatchPhase.Completed => "completed",
        BatchPhase.Failed => "failed",
        BatchPhase.Expired => "expired",
        BatchPhase.Cancelling => "cancelling",
        _ => "cancelled",
    };

    public static void Write(Utf8JsonWriter w, BatchJob job, BatchView view, TimeSpan completionWindow)
    {
        w.WriteStartObject();
        w.WriteString("id", job.Id);
        w.WriteString("object", "batch");
        w.WriteString("endpoint", job.Endpoint);
        w.WriteString("model", job.Model);
        if (view.Phase == BatchPhase.Failed && job.ValidationError is { } failure)
        {
            w.WriteStartObject("errors");
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            w.WriteStartObject();
            w.WriteString("code", failure.Code);
            w.WriteString("message", failure.Message);
            w.WriteNull("param");
            w.WriteNull("line");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("errors");
        }

        w.WriteString("input_file_id", job.InputFileId);
        w.WriteString("completion_window", "24h");
        w.WriteString("status", Status(view.Phase));
        Nullable(w, "output_file_id", view.Ended && BatchResults.HasOutput(view) ? job.OutputFileId : null);
        Nullable(w, "error_file_id", view.Ended && BatchResults.HasErrors(job, view) ? job.ErrorFileId : null);
        w.WriteNumber("created_at", job.CreatedAt.ToUnixTimeSeconds());
        Time(w, "in_progress_at", view.InProgressAt);
        Time(w, "expires_at", job.CreatedAt + completionWindow);
        Time(w, "finalizing_at", view.FinalizingAt);
        Time(w, "completed_at", view.CompletedAt);
        Time(w, "failed_at", view.FailedAt);
        Time(w, "expired_at", view.ExpiredAt);
        Time(w, "cancelling_at", view.CancellingAt);
        Time(w, "cancelled_at", view.CancelledAt);
        w.WriteStartObject("request_counts");
        w.WriteNumber("total", job.Lines.Count);
        w.WriteNumber("completed", view.Succeeded);
        w.WriteNumber("failed", view.Errored);
        w.WriteEndObject();
        if (job.Metadata is { } metadata)
        {
            w.WritePropertyName("metadata");
            w.WriteRawValue(metadata, skipInputValidation: true);
        }
        else
        {
            w.WriteNull("metadata");
        }

        w.WriteEndObject();
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            w.WriteNumber(name, value.ToUnixTimeSeconds());
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void Nullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
