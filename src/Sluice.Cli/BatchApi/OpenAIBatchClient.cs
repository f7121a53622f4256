using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Sluice.Cli.Run;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// OpenAI's Files and Batch APIs: upload a batch input file (<c>POST /v1/files</c>, purpose <c>batch</c>), create a
/// batch (<c>POST /v1/batches</c>, 24 h window, metadata), read one (<c>GET /v1/batches/{id}</c>), list them
/// (<c>GET /v1/batches</c>, to find a batch by its metadata after a kill), and read its output and error files
/// (<c>GET /v1/files/{id}/content</c>).
/// </summary>
internal sealed class OpenAIBatchClient(BatchApiHttp http, ProviderKind provider, PriceTable prices) : IBatchApiClient
{
    /// <summary>Batches listed at most when looking for one by metadata: 100 pages of 100.</summary>
    private const int MaxListPages = 100;

    /// <summary>OpenAI's documented limits: 50,000 requests and 200 MB per batch input file.</summary>
    public BatchLimits Limits(long? maxEnqueuedTokens) => new(50_000, 200_000_000, maxEnqueuedTokens);

    public async Task<BatchStatus> SubmitAsync(BatchPart part, IReadOnlyList<RequestLine> requests, IReadOnlyDictionary<string, string> metadata, Action<string> fileUploaded, CancellationToken cancellationToken)
    {
        using var file = new MemoryStream((int)Math.Min(part.Bytes, int.MaxValue - 1));
        foreach (var request in requests)
        {
            file.Write(BatchInputLine.Of(request).Json);
            file.WriteByte((byte)'\n');
        }

        string fileId = await UploadAsync($"{metadata["sluice_run"]}-part-{part.Number.ToString(CultureInfo.InvariantCulture)}.jsonl", file.ToArray(), cancellationToken).ConfigureAwait(false);
        fileUploaded(fileId);
        using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Post, http.Url("/v1/batches"))
        {
            Content = BatchApiHttp.JsonContent(writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("input_file_id", fileId);
                writer.WriteString("endpoint", part.Url);
                writer.WriteString("completion_window", "24h");
                writer.WriteStartObject("metadata");
                foreach (var (key, value) in metadata)
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }),
        }, cancellationToken).ConfigureAwait(false);
        return BatchStatus.Parse(document.RootElement);
    }

    public async Task<BatchStatus> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url("/v1/batches/" + Uri.EscapeDataString(batchId))), cancellationToken).ConfigureAwait(false);
        return BatchStatus.Parse(document.RootElement);
    }

    /// <summary>The newest batch whose metadata holds every pair of <paramref name="metadata"/>, or null (the most recent 10,000 are looked at).</summary>
    public async Task<BatchStatus?> FindAsync(BatchPart part, IReadOnlyDictionary<string, string> metadata, DateTimeOffset? submittingSince, IReadOnlySet<string> claimed, CancellationToken cancellationToken)
    {
        string? after = null;
        for (int page = 0; page < MaxListPages; page++)
        {
            string path = "/v1/batches?limit=100" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            using var document = await http.JsonAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url(path)), cancellationToken).ConfigureAwait(false);
            var root = document.RootElement;
            if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var item in data.EnumerateArray())
            {
                var batch = BatchStatus.Parse(item);
                after = batch.Id;
                if (metadata.All(pair => batch.Metadata.TryGetValue(pair.Key, out string? value) && string.Equals(value, pair.Value, StringComparison.Ordinal)))
                {
                    return batch;
                }
            }

            if (!(root.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True) || after is null)
            {
                return null;
            }
        }

        return null;
    }

    public async IAsyncEnumerable<BatchResultLine> ResultsAsync(BatchPart part, BatchStatus status, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (string? fileId in new[] { status.OutputFileId, status.ErrorFileId })
        {
            if (string.IsNullOrEmpty(fileId))
            {
                continue;
            }

            using var response = await http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, http.Url("/v1/files/" + Uri.EscapeDataString(fileId) + "/content")), cancellationToken, streamed: true).ConfigureAwait(false);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
            {
                if (!string.IsNullOrWhiteSpace(text) && BatchResultLine.Parse(text, provider, part.Model, prices) is { } result)
                {
                    yield return result;
                }
            }
        }
    }

    public void Dispose() => http.Dispose();

    private async Task<string> UploadAsync(string fileName, byte[] content, CancellationToken cancellationToken)
    {
        using var document = await http.JsonAsync(() =>
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent("batch"), "purpose" },
            };
            var file = new ByteArrayContent(content);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
            form.Add(file, "file", fileName);
            return new HttpRequestMessage(HttpMethod.Post, http.Url("/v1/files")) { Content = form };
        }, cancellationToken).ConfigureAwait(false);
        return document.RootElement.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } fileId
            ? fileId
            : throw new BatchApiException(200, "the file upload's answer has no id");
    }
}
