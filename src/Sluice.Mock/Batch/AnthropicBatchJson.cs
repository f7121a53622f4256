using System.Globalization;
using System.Text.Json;

namespace Sluice.Mock.Batch;

/// <summary>Writes Anthropic's message batch object; its times are RFC 3339 strings.</summary>
internal static class AnthropicBatchJson
{
    public static void Write(Utf8JsonWriter w, BatchJob job, BatchView view, string resultsUrl)
    {
        w.WriteStartObject();
        w.WriteString("id", job.Id);
        w.WriteString("type", "message_batch");
        w.WriteString("processing_status", view.Ended ? "ended" : view.Phase == BatchPhase.Cancelling ? "canceling" : "in_progress");
        var undone = job.Lines.Count - view.Done;
        w.WriteStartObject("request_counts");
        w.WriteNumber("processing", view.Ended ? 0 : undone);
        w.WriteNumber("succeeded", view.Succeeded);
        w.WriteNumber("errored", view.Errored);
        w.WriteNumber("canceled", view.Phase == BatchPhase.Cancelled ? undone : 0);
        w.WriteNumber("expired", view.Phase == BatchPhase.Expired ? undone : 0);
        w.WriteEndObject();
        Time(w, "ended_at", view.EndedAt);
        Time(w, "created_at", job.CreatedAt);
        Time(w, "expires_at", job.CreatedAt + job.CompletionWindow);
        w.WriteNull("archived_at");
        Time(w, "cancel_initiated_at", view.CancellingAt);
        if (view.Ended)
        {
            w.WriteString("results_url", resultsUrl);
        }
        else
        {
            w.WriteNull("results_url");
        }

        w.WriteEndObject();
    }

    private static void Time(Utf8JsonWriter w, string name, DateTimeOffset? at)
    {
        if (at is { } value)
        {
            w.WriteString(name, value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
