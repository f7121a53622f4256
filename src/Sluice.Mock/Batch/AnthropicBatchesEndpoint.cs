using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// Anthropic's Message Batches API: <c>POST /v1/messages/batches</c>, <c>GET /v1/messages/batches/{id}</c>,
/// <c>GET /v1/messages/batches/{id}/results</c>, <c>GET /v1/messages/batches</c> (newest first, <c>limit</c>,
/// <c>after_id</c>, <c>before_id</c>) and <c>POST /v1/messages/batches/{id}/cancel</c>.
/// </summary>
internal sealed partial class AnthropicBatchesEndpoint(BatchHttp http)
{
    /// <summary>Anthropic's limits per batch.</summary>
    public const int MaxRequests = 100_000;

    public const long MaxBytes = 256L * 1024 * 1024;

    public Task BatchesAsync(HttpContext context) => http.HandleAsync(context, Provider.Anthropic, async (c, ct) =>
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
            await http.NotFoundAsync(c, Provider.Anthropic, ct).ConfigureAwait(false);
        }
    });

    public Task BatchAsync(HttpContext context) => http.HandleAsync(context, Provider.Anthropic, async (c, ct) =>
    {
        if (!HttpMethods.IsGet(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.Anthropic, ct).ConfigureAwait(false);
            return;
        }

        if (Find(c) is not { } found)
        {
            await http.ErrorAsync(c, Provider.Anthropic, NoSuchBatch(BatchHttp.RouteId(c)), ct).ConfigureAwait(false);
            return;
        }

        await http.JsonAsync(c, Provider.Anthropic, StatusCodes.Status200OK, w => AnthropicBatchJson.Write(w, found.Job, found.View, ResultsUrl(c, found.Job)), ct).ConfigureAwait(false);
    });

    public Task ResultsAsync(HttpContext context) => http.HandleAsync(context, Provider.Anthropic, async (c, ct) =>
    {
        if (!HttpMethods.IsGet(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.Anthropic, ct).ConfigureAwait(false);
            return;
        }

        if (Find(c) is not { } found)
        {
            await http.ErrorAsync(c, Provider.Anthropic, NoSuchBatch(BatchHttp.RouteId(c)), ct).ConfigureAwait(false);
            return;
        }

        if (!found.View.Ended)
        {
            await http.ErrorAsync(c, Provider.Anthropic, new ApiError(404, "not_found_error",
                $"Results for batch {found.Job.Id} are not available until processing has ended.", null, null, "not_found"), ct).ConfigureAwait(false);
            return;
        }

        http.Store.Counters.LinesServed(found.Job.Lines.Count);
        await BatchHttp.BytesAsync(c, "application/binary", BatchResults.AnthropicResults(found.Job, found.View), ct).ConfigureAwait(false);
    });

    public Task CancelAsync(HttpContext context) => http.HandleAsync(context, Provider.Anthropic, async (c, ct) =>
    {
        if (!HttpMethods.IsPost(c.Request.Method))
        {
            await http.NotFoundAsync(c, Provider.Anthropic, ct).ConfigureAwait(false);
            return;
        }

        var id = BatchHttp.RouteId(c);
        if (http.Store.Cancel(Provider.Anthropic, id) is not { } result)
        {
            await http.ErrorAsync(c, Provider.Anthropic, NoSuchBatch(id), ct).ConfigureAwait(false);
            return;
        }

        // Anthropic answers a cancel of an ended batch with the batch as it is.
        await http.JsonAsync(c, Provider.Anthropic, StatusCodes.Status200OK, w => AnthropicBatchJson.Write(w, result.Job, result.View, ResultsUrl(c, result.Job)), ct).ConfigureAwait(false);
    });

    private (BatchJob Job, BatchView View)? Find(HttpContext c) => http.Store.GetBatch(Provider.Anthropic, BatchHttp.RouteId(c));

    private string ResultsUrl(HttpContext c, BatchJob job) =>
        $"{c.Request.Scheme}://{c.Request.Host}{http.ApiRoot}/messages/batches/{job.Id}/results";

    private async Task ListAsync(HttpContext c, CancellationToken ct)
    {
        var query = c.Request.Query;
        var limit = 20;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            await http.ErrorAsync(c, Provider.Anthropic, new ApiError(400, "invalid_request_error",
                "limit: Input should be less than or equal to 1000 and greater than or equal to 1", null, null, "invalid_request"), ct).ConfigureAwait(false);
            return;
        }

        var all = http.Store.ListBatches(Provider.Anthropic).ToList();
        var start = 0;
        var end = all.Count;
        if (query["after_id"].ToString() is { Length: > 0 } afterId)
        {
            var index = all.FindIndex(b => b.Job.Id == afterId);
            start = index < 0 ? all.Count : index + 1;
        }

        if (query["before_id"].ToString() is { Length: > 0 } beforeId)
        {
            var index = all.FindIndex(b => b.Job.Id == beforeId);
            end = index < 0 ? 0 : index;
            start = Math.Max(0, Math.Min(start, end - limit));
            start = Math.Max(start, end - limit);
        }

        var page = all.Skip(start).Take(Math.Min(limit, Math.Max(0, end - start))).ToList();
        await http.JsonAsync(c, Provider.Anthropic, StatusCodes.Status200OK, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("data");
            foreach (var (job, view) in page)
            {
                AnthropicBatchJson.Write(w, job, view, ResultsUrl(c, job));
            }

            w.WriteEndArray();
            w.WriteBoolean("has_more", start + page.Count < end);
            if (page.Count > 0)
            {
                w.WriteString("first_id", page[0].Job.Id);
                w.WriteString("last_id", page[^1].Job.Id);
            }
            else
            {
                w.WriteNull("first_id");
                w.WriteNull("last_id");
            }

            w.WriteEndObject();
        }, ct).ConfigureAwait(false);
    }

    private async Task CreateAsync(HttpContext c, CancellationToken ct)
    {
        BatchHttp.AllowBody(c, MaxBytes);
        var (document, bodyError) = await BatchHttp.ReadJsonAsync(c, Provider.Anthropic, ct).ConfigureAwait(false);
        if (document is null)
        {
            await http.ErrorAsync(c, Provider.Anthropic, bodyError!, ct).ConfigureAwait(false);
            return;
        }

        var store = http.Store;
        using (document)
        {
            var reader = new BodyReader(document.RootElement, Provider.Anthropic);
            var requests = reader.RequiredArray("requests");
            if (reader.Error is null && requests.GetArrayLength() > MaxRequests)
            {
                reader.Fail(Invalid($"requests: List should have at most {MaxRequests} items after validation, not {requests.GetArrayLength()}"));
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var request in reader.Error is null ? requests.EnumerateArray() : default)
            {
                if (RequestProblem(request, index, ids) is { } problem)
                {
                    reader.Fail(Invalid(problem));
                    break;
                }

                index++;
            }

            if (reader.Error is not null)
            {
                await http.ErrorAsync(c, Provider.Anthropic, reader.Error, ct).ConfigureAwait(false);
                return;
            }

            // Answered now, outside the lock; the batch then only reveals them as the clock moves on.
            var batchKey = DeterministicHash.Of(store.Ids.Request());
            var answers = new List<LineAnswer>(index);
            var number = 0;
            foreach (var request in requests.EnumerateArray())
            {
                answers.Add(await store.Answers.AnswerAsync(
                    "/v1/messages", request.GetProperty("custom_id").GetString()!, request.GetProperty("params"), batchKey ^ (ulong)++number, ct).ConfigureAwait(false));
            }

            var now = store.Time.GetUtcNow();
            var added = store.TryAddBatch("", _ => new BatchJob
            {
                Id = store.Ids.AnthropicBatch(),
                Provider = Provider.Anthropic,
                CreatedAt = now,
                ProcessingTime = store.ProcessingTime,
                CompletionWindow = store.CompletionWindow,
                Lines = answers,
            }, out var batch);
            if (!added)
            {
                await http.ErrorAsync(c, Provider.Anthropic, new ApiError(429, "rate_limit_error",
                    $"The mock holds at most {store.MaxBatches} batches and none has ended; wait for one to end or cancel one.", null, null, "batch_limit"), ct).ConfigureAwait(false);
                return;
            }

            await http.JsonAsync(c, Provider.Anthropic, StatusCodes.Status200OK, w => AnthropicBatchJson.Write(w, batch.Job, batch.View, ResultsUrl(c, batch.Job)), ct).ConfigureAwait(false);
        }
    }

    private static string? RequestProblem(JsonElement request, int index, HashSet<string> ids)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return $"requests.{index}: Input should be a valid dictionary";
        }

        if (!request.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return $"requests.{index}.custom_id: Field required";
        }

        var customId = id.GetString()!;
        if (!CustomIdPattern().IsMatch(customId))
        {
            return $"requests.{index}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'";
        }

        if (!ids.Add(customId))
        {
            return $"requests.{index}.custom_id: Duplicate custom_id '{customId}'; custom_id values must be unique within a batch";
        }

        if (!request.TryGetProperty("params", out var parameters) || parameters.ValueKind != JsonValueKind.Object)
        {
            return $"requests.{index}.params: Field required";
        }

        return null;
    }

    private static ApiError Invalid(string message) => new(400, "invalid_request_error", message, null, null, "invalid_request");

    private static ApiError NoSuchBatch(string id) => new(404, "not_found_error", $"Message batch {id} not found.", null, null, "not_found");

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex CustomIdPattern();
}
