using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// OpenAI's Batch API: <c>POST /v1/batches</c>, <c>GET /v1/batches/{id}</c>, <c>GET /v1/batches?limit&amp;after</c>
/// (newest first) and <c>POST /v1/batches/{id}/cancel</c>.
/// </summary>
internal sealed class OpenAIBatchesEndpoint(BatchHttp http)
{
    private const int MaxMetadataPairs = 16;

    public Task BatchesAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        if (HttpMethods.IsGet(c.Request.Method))
        {
            await ListAsync(c, ct).ConfigureAwait(false);
        }
        else if (HttpMethods.IsPost(c.Request.Method))
        {
            await CreateAsync(c, ct).ConfigureAwait(false);
        }
        else
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
        }
    });

    public Task BatchAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        if (!HttpMethods.IsGet(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
            return;
        }

        var id = BatchHttp.RouteId(c);
        if (http.Store.GetBatch(Provider.OpenAI, id) is not { } found)
        {
            await http.ErrorAsync(c, Provider.OpenAI, NoSuchBatch(id), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w => OpenAIBatchJson.Write(w, found.Job, found.View, http.Store.CompletionWindow), ct).ConfigureAwait(false);
    });

    public Task CancelAsync(HttpContext context) => http.HandleAsync(context, Provider.OpenAI, async (c, ct) =>
    {
        if (!HttpMethods.IsPost(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
            return;
        }

        var id = BatchHttp.RouteId(c);
        if (http.Store.Cancel(Provider.OpenAI, id) is not { } result)
        {
            await http.ErrorAsync(c, Provider.OpenAI, NoSuchBatch(id), ct).ConfigureAwait(false);
            return;
        }

        if (!result.Cancelled && result.View.Phase != BatchPhase.Cancelling)
        {
            await http.ErrorAsync(c, Provider.OpenAI, new ApiError(409, "invalid_request_error",
                $"Cannot cancel a batch with status '{OpenAIBatchJson.Status(result.View.Phase)}'.", null, null, "invalid_request"), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w => OpenAIBatchJson.Write(w, result.Job, result.View, http.Store.CompletionWindow), ct).ConfigureAwait(false);
    });

    private async Task ListAsync(HttpContext c, CancellationToken ct)
    {
        var query = c.Request.Query;
        var limit = 20;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 100))
        {
            await http.ErrorAsync(c, Provider.OpenAI, new ApiError(400, "invalid_request_error",
                $"Invalid 'limit': expected an integer between 1 and 100, but got '{limitText}'.", "limit", "invalid_value", "invalid_request"), ct).ConfigureAwait(false);
            return;
        }

        var all = http.Store.ListBatches(Provider.OpenAI);
        var start = 0;
        if (query.TryGetValue("after", out var after) && after.ToString() is { Length: > 0 } afterId)
        {
            var index = all.ToList().FindIndex(b => b.Job.Id == afterId);
            start = index < 0 ? all.Count : index + 1;
        }

        var page = all.Skip(start).Take(limit).ToList();
        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteString("object", "list");
            w.WriteStartArray("data");
            foreach (var (job, view) in page)
            {
                OpenAIBatchJson.Write(w, job, view, http.Store.CompletionWindow);
            }

            w.WriteEndArray();
            WriteNullable(w, "first_id", page.Count > 0 ? page[0].Job.Id : null);
            WriteNullable(w, "last_id", page.Count > 0 ? page[^1].Job.Id : null);
            w.WriteBoolean("has_more", start + page.Count < all.Count);
            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
    }

    private async Task CreateAsync(HttpContext c, CancellationToken ct)
    {
        var (document, bodyError) = await BatchHttp.ReadJsonAsync(c, Provider.OpenAI, ct).ConfigureAwait(false);
        if (document is null)
        {
            await http.ErrorAsync(c, Provider.OpenAI, bodyError!, ct).ConfigureAwait(false);
            return;
        }

        string inputFileId, endpoint;
        string? metadata;
        using (document)
        {
            var body = new BodyReader(document.RootElement, Provider.OpenAI);
            inputFileId = body.RequiredString("input_file_id");
            endpoint = body.RequiredString("endpoint");
            var window = body.RequiredString("completion_window");
            var metadataElement = body.OptionalObject("metadata");
            if (body.Error is null && !BatchAnswers.OpenAIEndpoints.Contains(endpoint))
            {
                body.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "endpoint", $"'{endpoint}' is not supported. Supported values are: {string.Join(", ", BatchAnswers.OpenAIEndpoints.Select(e => $"'{e}'"))}."));
            }

            if (body.Error is null && window != "24h")
            {
                body.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "completion_window", $"'{window}' is not supported. Supported values are: '24h'."));
            }

            if (body.Error is null && metadataElement is { } m && MetadataProblem(m) is { } problem)
            {
                body.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "metadata", problem));
            }

            if (body.Error is not null)
            {
                await http.ErrorAsync(c, Provider.OpenAI, body.Error, ct).ConfigureAwait(false);
                return;
            }

            metadata = metadataElement?.GetRawText();
        }

        var store = http.Store;
        if (store.GetUpload(inputFileId) is not { } file)
        {
            await http.ErrorAsync(c, Provider.OpenAI, new ApiError(404, "invalid_request_error", $"No such File object: {inputFileId}", "input_file_id", null, "not_found"), ct).ConfigureAwait(false);
            return;
        }

        var (lines, _) = BatchFileValidator.Validate(file.Content, store.MaxRequests);
        if (lines![0].Url != endpoint)
        {
            await http.ErrorAsync(c, Provider.OpenAI, ApiErrors.InvalidValue(Provider.OpenAI, "endpoint",
                $"The input file's requests target '{lines[0].Url}', but the batch's endpoint is '{endpoint}'."), ct).ConfigureAwait(false);
            return;
        }

        // Answered now, outside the lock; the batch then only reveals them as the clock moves on.
        var answers = new List<LineAnswer>(lines.Count);
        long tokens = 0;
        // The failure draw is keyed by file and line: a resubmitted line, in a new file, gets a fresh draw.
        var batchKey = Content.DeterministicHash.Of(inputFileId);
        foreach (var line in lines)
        {
            using var lineDocument = JsonDocument.Parse(file.Content.AsMemory(line.Start, line.Length));
            var lineBody = lineDocument.RootElement.GetProperty("body");
            tokens += store.Answers.EstimateTokens(line.Url, lineBody);
            answers.Add(await store.Answers.AnswerAsync(line.Url, line.CustomId, lineBody, batchKey ^ (ulong)line.Number, ct).ConfigureAwait(false));
        }

        var model = lines[0].Model;
        var now = store.Time.GetUtcNow();
        var added = store.TryAddBatch(model, enqueued => new BatchJob
        {
            Id = store.Ids.OpenAIBatch(),
            Provider = Provider.OpenAI,
            CreatedAt = now,
            ProcessingTime = store.ProcessingTime,
            CompletionWindow = store.CompletionWindow,
            Lines = answers,
            Model = model,
            EstimatedTokens = tokens,
            ValidationError = store.MaxEnqueuedTokens is { } max && enqueued + tokens > max
                ? ("token_limit_exceeded", $"Enqueued token limit reached for {model} in organization org-mock. Limit: {max} enqueued tokens. Please try submitting your batch again later.")
                : null,
            Endpoint = endpoint,
            InputFileId = inputFileId,
            Metadata = metadata,
            OutputFileId = store.Ids.File(),
            ErrorFileId = store.Ids.File(),
        }, out var batch);
        if (!added)
        {
            await http.ErrorAsync(c, Provider.OpenAI, new ApiError(429, "rate_limit_exceeded",
                $"The mock holds at most {store.MaxBatches} batches and none has ended; wait for one to end or cancel one.", null, "rate_limit_exceeded", "batch_limit"), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.OpenAI, StatusCodes.Status200OK, w => OpenAIBatchJson.Write(w, batch.Job, batch.View, store.CompletionWindow), ct).ConfigureAwait(false);
    }

    private static string? MetadataProblem(JsonElement metadata)
    {
        var count = 0;
        foreach (var property in metadata.EnumerateObject())
        {
            if (++count > MaxMetadataPairs)
            {
                return $"metadata may have at most {MaxMetadataPairs} key-value pairs.";
            }

            if (property.Name.Length > 64 || property.Value.ValueKind != JsonValueKind.String || property.Value.GetString()!.Length > 512)
            {
                return "metadata keys must be strings of at most 64 characters and values strings of at most 512 characters.";
            }
        }

        return null;
    }

    private static ApiError NoSuchBatch(string id) => new(404, "invalid_request_error", $"No batch found with id '{id}'.", "id", null, "not_found");

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
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
