using System.Globalization;
using System.Net;
using System.Text.Json;
using Sluice.Providers;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// The HTTP under both providers' batch clients: the key put on each message the provider's way (never in an error),
/// 429s, 5xx and lost connections retried with capped exponential backoff (a <c>Retry-After</c> wins, capped), any
/// other refusal a <see cref="BatchApiException"/> with the provider's message.
/// </summary>
internal sealed class BatchApiHttp : IDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly ProviderKind _provider;
    private readonly string? _apiKey;
    private readonly TimeProvider _time;
    private readonly int _maxAttempts;

    public BatchApiHttp(Uri baseUrl, ProviderKind provider, string? apiKey, TimeProvider time, int maxAttempts, TimeSpan timeout)
    {
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.All }) { Timeout = timeout };
        BaseUrl = baseUrl;
        _provider = provider;
        _apiKey = apiKey;
        _time = time;
        _maxAttempts = Math.Max(1, maxAttempts);
    }

    public Uri BaseUrl { get; }

    /// <summary>The absolute URL of an API path such as <c>/v1/batches</c>.</summary>
    public Uri Url(string path) => Providers.BaseUrl.Join(BaseUrl, path);

    /// <summary>A call whose answer is JSON.</summary>
    public async Task<JsonDocument> JsonAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(create, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A JSON body for a request.</summary>
    public static ByteArrayContent JsonContent(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            write(writer);
        }

        return new ByteArrayContent(stream.ToArray()) { Headers = { ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") } };
    }

    public void Dispose() => _http.Dispose();

    // One call, retried on 429, 5xx and lost connections with capped exponential backoff (a Retry-After wins, capped).
    public async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken cancellationToken, bool streamed = false)
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

    public static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
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

}
