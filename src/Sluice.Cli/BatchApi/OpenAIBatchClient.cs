using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sluice.Providers;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// OpenAI's Files and Batch APIs, as much as a run needs: upload a batch input file (<c>POST /v1/files</c>, purpose
/// <c>batch</c>), create a batch (<c>POST /v1/batches</c>), read one (<c>GET /v1/batches/{id}</c>), list them
/// (<c>GET /v1/batches</c>, to find a batch by its metadata after a kill), and download a file
/// (<c>GET /v1/files/{id}/content</c>). 429s, 5xx and lost connections are retried with capped backoff; any other
/// refusal is a <see cref="BatchApiException"/>. The key is put on each message and never appears in an error.
/// </summary>
internal sealed class OpenAIBatchClient : IDisposable
{
    /// <summary>Batches listed at most when looking for one by metadata: 100 pages of 100.</summary>
    private const int MaxListPages = 100;

    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly Uri _baseUrl;
    private readonly ProviderKind _provider;
    private readonly string? _apiKey;
    private readonly TimeProvider _time;
    private readonly int _maxAttempts;

    public OpenAIBatchClient(Uri baseUrl, ProviderKind provider, string? apiKey, TimeProvider time, int maxAttempts, TimeSpan timeout)
    {
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.All }) { Timeout = timeout };
        _baseUrl = baseUrl;
        _provider = provider;
        _apiKey = apiKey;
        _time = time;
        _maxAttempts = Math.Max(1, maxAttempts);
    }

    /// <summary>Uploads a batch input file; returns its file id.</summary>
    public async Task<string> UploadAsync(string fileName, byte[] content, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() =>
        {
            var form = new MultipartFormDataContent
            {
                { new StringContent("batch"), "purpose" },
            };
            var file = new ByteArrayContent(content);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
            form.Add(file, "file", fileName);
            return new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(_baseUrl, "/v1/files")) { Content = form };
        }, cancellationToken).ConfigureAwait(false);
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return document.RootElement.TryGetProperty("id", out var id) && id.GetString() is { Length: > 0 } fileId
            ? fileId
            : throw new BatchApiException((int)response.StatusCode, "the file upload's answer has no id");
    }

    /// <summary>Creates a batch of an uploaded file for one endpoint, with a 24 h completion window and the given metadata.</summary>
    public async Task<BatchStatus> CreateAsync(string fileId, string endpoint, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        byte[] json = Json(writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("input_file_id", fileId);
            writer.WriteString("endpoint", endpoint);
            writer.WriteString("completion_window", "24h");
            writer.WriteStartObject("metadata");
            foreach (var (key, value) in metadata)
            {
                writer.WriteString(key, value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        });
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(_baseUrl, "/v1/batches"))
        {
            Content = new ByteArrayContent(json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        }, cancellationToken).ConfigureAwait(false);
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return BatchStatus.Parse(document.RootElement);
    }

    /// <summary>One batch as it stands.</summary>
    public async Task<BatchStatus> GetAsync(string batchId, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BaseUrl.Join(_baseUrl, "/v1/batches/" + Uri.EscapeDataString(batchId))), cancellationToken).ConfigureAwait(false);
        using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        return BatchStatus.Parse(document.RootElement);
    }

    /// <summary>The newest batch whose metadata holds every pair of <paramref name="metadata"/>, or null (the most recent 10,000 are looked at).</summary>
    public async Task<BatchStatus?> FindAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        string? after = null;
        for (int page = 0; page < MaxListPages; page++)
        {
            string path = "/v1/batches?limit=100" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BaseUrl.Join(_baseUrl, path)), cancellationToken).ConfigureAwait(false);
            using var document = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
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

    /// <summary>A file's content, read line by line by the caller; dispose the response when done.</summary>
    public Task<HttpResponseMessage> DownloadAsync(string fileId, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BaseUrl.Join(_baseUrl, "/v1/files/" + Uri.EscapeDataString(fileId) + "/content")), cancellationToken, streamed: true);

    public void Dispose() => _http.Dispose();

    // One call, retried on 429, 5xx and lost connections with capped exponential backoff (a Retry-After wins, capped).
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken, bool streamed = false)
    {
        for (int attempt = 1; ; attempt++)
        {
            using var message = create();
            if (_apiKey is not null)
            {
                ProviderCredentials.Add(message, _provider, _apiKey);
            }

            HttpResponseMessage? response = null;
            TimeSpan? retryAfter = null;
            string problem;
            try
            {
                response = await _http.SendAsync(message, streamed ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 200 and < 300)
                {
                    return response;
                }

                problem = await ErrorOf(response, cancellationToken).ConfigureAwait(false);
                retryAfter = response.Headers.RetryAfter?.Delta;
                if (status != 429 && status < 500)
                {
                    response.Dispose();
                    throw new BatchApiException(status, $"{message.Method} {message.RequestUri!.AbsolutePath}: HTTP {status.ToString(CultureInfo.InvariantCulture)}: {problem}");
                }

                response.Dispose();
            }
            catch (HttpRequestException exception)
            {
                problem = exception.Message;
            }
            catch (TaskCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                problem = "timed out: " + exception.Message;
            }

            if (attempt >= _maxAttempts)
            {
                throw new BatchApiException(0, $"{message.Method} {message.RequestUri!.AbsolutePath} failed {attempt.ToString(CultureInfo.InvariantCulture)} times; the last: {problem}");
            }

            var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, attempt - 1)));
            if (retryAfter is { } wait)
            {
                backoff = wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxBackoff ? MaxBackoff : wait;
            }

            await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return text.Length > 200 ? text[..200] : text;
    }

    private static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException exception)
            {
                throw new BatchApiException((int)response.StatusCode, $"the answer is not JSON: {exception.Message}");
            }
        }
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        return stream.ToArray();
    }
}
