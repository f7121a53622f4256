using System.Text.Json;
using Sluice.Mock.Limits;

namespace Sluice.Mock.Stats;

/// <summary>Writes <see cref="MockStats"/> as the JSON of <c>GET /mock/stats</c>, field by field so the shape is fixed here.</summary>
internal static class StatsJson
{
    public static void Write(Utf8JsonWriter writer, MockStats stats)
    {
        writer.WriteStartObject();
        writer.WriteNumber("received", stats.Received);
        writer.WriteNumber("accepted", stats.Accepted);
        writer.WriteNumber("succeeded", stats.Succeeded);
        WriteCounts(writer, "rejected", stats.Rejected);
        WriteCounts(writer, "faults", stats.Faults);
        writer.WriteNumber("inFlight", stats.InFlight);
        writer.WriteNumber("peakInFlight", stats.PeakInFlight);
        writer.WriteNumber("peakAdmittedInFlight", stats.PeakAdmittedInFlight);
        writer.WriteNumber("admittedTokens", stats.AdmittedTokens);
        writer.WriteNumber("promptTokens", stats.PromptTokens);
        writer.WriteNumber("completionTokens", stats.CompletionTokens);
        WriteIds(writer, "requestIds", stats.RequestIds);
        WriteIds(writer, "customIds", stats.CustomIds);

        writer.WriteStartObject("budgetViolations");
        writer.WriteNumber("total", stats.BudgetViolations.Total);
        writer.WriteNumber("requests", stats.BudgetViolations.Requests);
        writer.WriteNumber("tokens", stats.BudgetViolations.Tokens);
        writer.WriteNumber("inputTokens", stats.BudgetViolations.InputTokens);
        writer.WriteNumber("outputTokens", stats.BudgetViolations.OutputTokens);
        writer.WriteNumber("concurrency", stats.BudgetViolations.Concurrency);
        writer.WriteEndObject();

        writer.WriteStartObject("batches");
        writer.WriteNumber("filesUploaded", stats.Batches.FilesUploaded);
        writer.WriteNumber("openAIBatchesCreated", stats.Batches.OpenAIBatchesCreated);
        writer.WriteNumber("anthropicBatchesCreated", stats.Batches.AnthropicBatchesCreated);
        writer.WriteNumber("batchesCancelled", stats.Batches.BatchesCancelled);
        writer.WriteNumber("linesServed", stats.Batches.LinesServed);
        writer.WriteEndObject();

        writer.WritePropertyName("limits");
        LimitsJson.Write(writer, stats.Limits);
        writer.WriteEndObject();
    }

    private static void WriteCounts(Utf8JsonWriter writer, string name, IReadOnlyDictionary<string, long> counts)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in counts)
        {
            writer.WriteNumber(key, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteIds(Utf8JsonWriter writer, string name, MockIdCounts ids)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("total", ids.Total);
        writer.WriteNumber("distinct", ids.Distinct);
        writer.WriteNumber("duplicates", ids.Duplicates);
        writer.WriteNumber("duplicateSuccesses", ids.DuplicateSuccesses);
        writer.WriteStartObject("counts");
        foreach (var (id, count) in ids.Counts)
        {
            writer.WriteNumber(id, count);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
