using System.Text;
using System.Text.Json;
using Sluice.Cli.Run;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>What became of one line in a provider's batch.</summary>
internal enum BatchLineOutcome
{
    /// <summary>A 2xx answer: recorded as succeeded.</summary>
    Succeeded,

    /// <summary>An answer or error that another try would not change (a 4xx, an invalid request): recorded as failed.</summary>
    Failed,

    /// <summary>Not done: expired, cancelled, a 5xx or 429, or absent from both files. Goes into a new part.</summary>
    Unfinished,
}

/// <summary>
/// One line of a batch's output or error file (<c>{"id","custom_id","response":{"status_code","request_id","body"},"error"}</c>),
/// classified, and rewritten as the output line a live run writes for the same answer, its <c>sluice.cost</c> at
/// batch prices. <see cref="LiveCost"/> is what the same tokens would have cost through live calls.
/// </summary>
internal sealed record BatchResultLine(string CustomId, BatchLineOutcome Outcome, string OutputLine, decimal? Cost, decimal? LiveCost, long Tokens, string? ErrorMessage)
{
    /// <summary>Error codes of lines a batch did not do but another batch may: they are resubmitted.</summary>
    public static bool IsTransient(string? code) => code is "batch_expired" or "batch_cancelled" or "server_error" or "rate_limit_exceeded" or "internal_error";

    /// <summary>Parses and classifies a line; null when it is not a batch result line at all.</summary>
    public static BatchResultLine? Parse(string text, ProviderKind provider, string partModel, PriceTable prices)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("custom_id", out var idElement) || idElement.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            string customId = idElement.GetString()!;
            string id = root.TryGetProperty("id", out var idValue) && idValue.ValueKind == JsonValueKind.String ? idValue.GetString()! : NewId();
            if (root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object)
            {
                int status = response.TryGetProperty("status_code", out var code) && code.TryGetInt32(out int s) ? s : 0;
                string? requestId = response.TryGetProperty("request_id", out var rid) && rid.ValueKind == JsonValueKind.String ? rid.GetString() : null;
                byte[] body = response.TryGetProperty("body", out var bodyElement)
                    ? bodyElement.ValueKind == JsonValueKind.String ? Encoding.UTF8.GetBytes(bodyElement.GetString()!) : Encoding.UTF8.GetBytes(bodyElement.GetRawText())
                    : [];
                var answer = new ProviderAnswer(status, requestId, body);
                var (cost, liveCost, tokens) = Costs(response.TryGetProperty("body", out var b) ? b : default, provider, partModel, prices);
                var meta = new LineMeta(cost, Cached: false);
                if (status is >= 200 and < 300)
                {
                    return new BatchResultLine(customId, BatchLineOutcome.Succeeded, Run.OutputLine.Create(id, customId, answer, error: null, meta), cost, liveCost, tokens, null);
                }

                if (status is 429 or >= 500 or 0)
                {
                    return new BatchResultLine(customId, BatchLineOutcome.Unfinished, "", null, null, 0, $"HTTP {status}");
                }

                var (errorCode, message) = ErrorOf(response.TryGetProperty("body", out var e) ? e : default, status);
                return new BatchResultLine(customId, BatchLineOutcome.Failed, Run.OutputLine.Create(id, customId, answer, (errorCode, message), meta), cost, liveCost, tokens, message);
            }

            var (lineCode, lineMessage) = root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                ? (Text(error, "code") ?? "batch_error", Text(error, "message") ?? "the batch gave no answer")
                : ("batch_error", "the batch gave no answer");
            return IsTransient(lineCode)
                ? new BatchResultLine(customId, BatchLineOutcome.Unfinished, "", null, null, 0, lineMessage)
                : new BatchResultLine(customId, BatchLineOutcome.Failed, Run.OutputLine.Create(id, customId, null, (lineCode, lineMessage), new LineMeta(null, false)), null, null, 0, lineMessage);
        }
    }

    /// <summary>The output line of a line that failed for good without an answer (its batch failed as a whole, or it kept expiring).</summary>
    public static string FailedWithout(string customId, string code, string message) =>
        Run.OutputLine.Create(NewId(), customId, null, (code, message), new LineMeta(null, false));

    // Usage as OpenAI reports it (chat completions' prompt/completion tokens, the Responses API's input/output tokens), priced.
    private static (decimal? Batch, decimal? Live, long Tokens) Costs(JsonElement body, ProviderKind provider, string partModel, PriceTable prices)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return (null, null, 0);
        }

        long input = Number(usage, "prompt_tokens") ?? Number(usage, "input_tokens") ?? 0;
        long output = Number(usage, "completion_tokens") ?? Number(usage, "output_tokens") ?? 0;
        long cached = 0;
        foreach (var details in new[] { "prompt_tokens_details", "input_tokens_details" })
        {
            if (usage.TryGetProperty(details, out var d) && d.ValueKind == JsonValueKind.Object && Number(d, "cached_tokens") is { } c)
            {
                cached = Math.Min(c, input);
            }
        }

        return Price(provider, Text(body, "model") ?? partModel, partModel, input, output, cached, prices);
    }

    /// <summary>Tokens priced at batch and at live prices, by the answer's model, else the part's; nulls without a price.</summary>
    public static (decimal? Batch, decimal? Live, long Tokens) Price(ProviderKind provider, string model, string partModel, long input, long output, long cached, PriceTable prices) =>
        prices.TryFind(provider, model, out var price) || prices.TryFind(provider, partModel, out price)
            ? (price.CostOf(input, output, cached, batch: true), price.CostOf(input, output, cached, batch: false), input + output)
            : (null, null, input + output);

    /// <summary>A new output line id, as live runs make them.</summary>
    public static string NewId() => "batch_req_" + Guid.NewGuid().ToString("N")[..24];

    private static (string Code, string Message) ErrorOf(JsonElement body, int status)
    {
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            return (Text(error, "code") ?? Text(error, "type") ?? $"http_{status}", Text(error, "message") ?? $"HTTP {status}");
        }

        return ($"http_{status}", $"HTTP {status}");
    }

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.TryGetInt64(out long number) && number >= 0 ? number : null;

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
