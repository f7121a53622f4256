using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Sluice.Cli.Run;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// Anthropic's Message Batches API: create a batch of requests (<c>POST /v1/messages/batches</c>, each
/// <c>{custom_id, params}</c>), read one (<c>GET /v1/messages/batches/{id}</c>), list them (to find a batch again after
/// a kill), and read its results (<c>GET /v1/messages/batches/{id}/results</c>). Anthropic's custom ids allow only
/// <c>[a-zA-Z0-9_-]{1,64}</c>, so each request is sent as <c>line-N</c> (its line number in the input) and mapped
/// back to its own id through the part.
/// </summary>
internal sealed class AnthropicBatchClient(BatchApiHttp http, PriceTable prices) : IBatchApiClient
{
    private const int MaxListPages = 10;

    /// <summary>Clocks differ: a batch created up to this long before the journalled time may still be the part's.</summary>
    private static readonly TimeSpan ClockSlack = TimeSpan.FromMinutes(5);

    /// <summary>Anthropic's documented limits: 100,000 requests or 256 MB per batch.</summary>
    public BatchLimits Limits(long? maxEnqueuedTokens) => new(100_000, 256L * 1024 * 1024, maxEnqueuedTokens);

    public async Task<BatchStatus> SubmitAsync(BatchPart part, IReadOnlyList<RequestLine> requests, IReadOnlyDictionary<string, string> metadata, Action<string> fileUploaded, CancellationToken cancellationToken)
    {
        using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Post, http.Url("/v1/messages/batches"))
        {
            Content = BatchApiHttp.JsonContent(writer =>
            {
                writer.WriteStartObject();
                writer.WriteStartArray("requests");
                foreach (var request in requests)
                {
                    writer.WriteStartObject();
                    writer.WriteString("custom_id", IdOf(request.LineNumber));
                    writer.WritePropertyName("params");
                    writer.WriteRawValue(request.Body, skipInputValidation: true);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }),
        }, cancellationToken).ConfigureAwait(false);
        return Parse(document.RootElement);
    }

    public async Task<BatchStatus> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url("/v1/messages/batches/" + Uri.EscapeDataString(batchId))), cancellationToken).ConfigureAwait(false);
        return Parse(document.RootElement);
    }

    public async Task<BatchStatus?> FindAsync(BatchPart part, IReadOnlyDictionary<string, string> metadata, DateTimeOffset? submittingSince, IReadOnlySet<string> claimed, CancellationToken cancellationToken)
    {
        if (submittingSince is not { } since)
        {
            return null;
        }

        // Newest first: the part's batch is the oldest of its size created since it was journalled as submitting.
        BatchStatus? oldest = null;
        string? after = null;
        for (int page = 0; page < MaxListPages; page++)
        {
            string path = "/v1/messages/batches?limit=100" + (after is null ? "" : "&after_id=" + Uri.EscapeDataString(after));
            using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url(path)), cancellationToken).ConfigureAwait(false);
            var root = document.RootElement;
            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                break;
            }

            bool older = false;
            foreach (var item in data.EnumerateArray())
            {
                var batch = Parse(item);
                after = batch.Id;
                if (batch.CreatedAt is { } created && created < since - ClockSlack)
                {
                    older = true;
                    break;
                }

                if (batch.Total == part.Lines.Count && !claimed.Contains(batch.Id))
                {
                    oldest = batch;
                }
            }

            if (older || !(root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True))
            {
                break;
            }
        }

        return oldest;
    }

    public async IAsyncEnumerable<BatchResultLine> ResultsAsync(BatchPart part, BatchStatus status, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ids = part.Lines.ToDictionary(l => IdOf(l.LineNumber), l => l.CustomId, StringComparer.Ordinal);
        using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url("/v1/messages/batches/" + Uri.EscapeDataString(status.Id) + "/results")), cancellationToken, streamed: true).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            if (!string.IsNullOrWhiteSpace(text) && ParseResult(text, ids, part.Model, prices) is { } result)
            {
                yield return result;
            }
        }
    }

    public void Dispose() => http.Dispose();

    /// <summary>
    /// One results line (<c>{"custom_id","result":{"type":"succeeded","message"}|{"type":"errored","error"}|{"type":"canceled"}|{"type":"expired"}}</c>)
    /// as a live run's output line: a message is a 200 answer; an invalid request a 400 with Anthropic's error body,
    /// failed for good; an <c>api_error</c> or <c>overloaded_error</c>, a cancel or an expiry leaves the line unfinished.
    /// </summary>
    public static BatchResultLine? ParseResult(string text, IReadOnlyDictionary<string, string> ids, string partModel, PriceTable prices)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("custom_id", out var sent) || sent.ValueKind != JsonValueKind.String
                || !ids.TryGetValue(sent.GetString()!, out string? customId) || !root.TryGetProperty("result", out var result) || result.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string type = Text(result, "type") ?? "";
            if (type == "succeeded" && result.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                var (cost, live, tokens) = Costs(message, partModel, prices);
                var answer = new ProviderAnswer(200, Text(message, "id"), Encoding.UTF8.GetBytes(message.GetRawText()));
                return new BatchResultLine(customId, BatchLineOutcome.Succeeded, OutputLine.Create(BatchResultLine.NewId(), customId, answer, null, new LineMeta(cost, false)), cost, live, tokens, null);
            }

            if (type == "errored" && result.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var inner = error.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : error;
                string code = Text(inner, "type") ?? "api_error";
                string reason = Text(inner, "message") ?? code;
                if (code is "api_error" or "overloaded_error" or "rate_limit_error")
                {
                    return new BatchResultLine(customId, BatchLineOutcome.Unfinished, "", null, null, 0, reason);
                }

                var answer = new ProviderAnswer(400, null, Encoding.UTF8.GetBytes(error.GetRawText()));
                return new BatchResultLine(customId, BatchLineOutcome.Failed, OutputLine.Create(BatchResultLine.NewId(), customId, answer, (code, reason), new LineMeta(null, false)), null, null, 0, reason);
            }

            return new BatchResultLine(customId, BatchLineOutcome.Unfinished, "", null, null, 0, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Anthropic's batch object as a <see cref="BatchStatus"/>: <c>ended</c> is <c>completed</c>, counts summed.</summary>
    public static BatchStatus Parse(JsonElement batch)
    {
        int Count(string name) => batch.TryGetProperty("request_counts", out var counts) && counts.ValueKind == JsonValueKind.Object
            && counts.TryGetProperty(name, out var value) && value.TryGetInt32(out int count) ? count : 0;
        string status = Text(batch, "processing_status") switch
        {
            "ended" => "completed",
            "canceling" => "cancelling",
            { } other => other,
            null => "",
        };
        DateTimeOffset? created = Text(batch, "created_at") is { } at && DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
        int total = Count("processing") + Count("succeeded") + Count("errored") + Count("canceled") + Count("expired");
        return new BatchStatus(Text(batch, "id") ?? "", status, null, null, total, Count("succeeded"), Count("errored"), new Dictionary<string, string>())
        {
            CreatedAt = created,
        };
    }

    private static string IdOf(int lineNumber) => "line-" + lineNumber.ToString(CultureInfo.InvariantCulture);

    // Anthropic's usage: input_tokens excludes the prompt cache's reads and writes, counted apart.
    private static (decimal? Batch, decimal? Live, long Tokens) Costs(JsonElement message, string partModel, PriceTable prices)
    {
        if (!message.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return (null, null, 0);
        }

        long Number(string name) => usage.TryGetProperty(name, out var value) && value.TryGetInt64(out long n) && n >= 0 ? n : 0;
        long cacheRead = Number("cache_read_input_tokens");
        long input = Number("input_tokens") + Number("cache_creation_input_tokens") + cacheRead;
        return BatchResultLine.Price(ProviderKind.Anthropic, Text(message, "model") ?? partModel, partModel, input, Number("output_tokens"), cacheRead, prices);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
