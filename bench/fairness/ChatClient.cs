using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Sluice.FairBench;

/// <summary>
/// Sends chat completions as an OpenAI client does (a key in <c>Authorization: Bearer</c>), one HTTP/1.1 connection per
/// request in flight — the proxy serves HTTP/1.1 on cleartext — and reads <c>/sluice/status</c>.
/// </summary>
internal sealed class ChatClient : IDisposable
{
    private const string Body = """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Summarise the fair-share bench in one line."}],"max_tokens":20}""";

    // The token-budget run's batch tenant: a long prompt and a larger output cap, so its requests cost several times the app's.
    private static readonly string LargeBody =
        $$"""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"{{string.Concat(Enumerable.Repeat("Summarise this paragraph about fair queuing. ", 14))}}"}],"max_tokens":100}""";

    private readonly HttpClient _http;
    private readonly Uri _chat;
    private readonly Uri _status;

    public ChatClient(Uri baseUrl)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectTimeout = TimeSpan.FromSeconds(60),
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _chat = new Uri(baseUrl, "v1/chat/completions");
        _status = new Uri(baseUrl, "sluice/status");
    }

    /// <summary>One chat request: its HTTP status (0 when it failed without one) and when it was answered, on <see cref="TimeProvider.System"/>'s timestamps.</summary>
    public async Task<(int Status, long AnsweredAt)> SendAsync(string key, CancellationToken cancellationToken)
    {
        var (status, at, _) = await SendAsync(key, large: false, cancellationToken);
        return (status, at);
    }

    /// <summary>One chat request, small or <paramref name="large"/>; with the answer's <c>usage.total_tokens</c> (0 when not a 200).</summary>
    public async Task<(int Status, long AnsweredAt, long Tokens)> SendAsync(string key, bool large, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _chat) { Content = new StringContent(large ? LargeBody : Body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            long at = TimeProvider.System.GetTimestamp();
            if (response.StatusCode != System.Net.HttpStatusCode.OK)
            {
                return ((int)response.StatusCode, at, 0);
            }

            using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            long tokens = answer.RootElement.TryGetProperty("usage", out var usage) && usage.TryGetProperty("total_tokens", out var total) ? total.GetInt64() : 0;
            return (200, at, tokens);
        }
        catch (HttpRequestException)
        {
            return (0, TimeProvider.System.GetTimestamp(), 0);
        }
    }

    /// <summary>The proxy's status, or null when it would not give it (it needs a tenant key when tenants have keys).</summary>
    public async Task<JsonDocument?> StatusAsync(string key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _status);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await _http.SendAsync(request, cancellationToken);
        return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) : null;
    }

    /// <summary>Requests waiting in every partition of every upstream, by the status.</summary>
    public static long Waiting(JsonDocument status) =>
        status.RootElement.GetProperty("upstreams").EnumerateArray()
            .SelectMany(u => u.GetProperty("partitions").EnumerateArray())
            .Sum(p => p.TryGetProperty("queued", out var queued) ? queued.GetInt64() : 0);

    public void Dispose() => _http.Dispose();
}
