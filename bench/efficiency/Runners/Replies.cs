using System.Net.Http.Headers;
using System.Text.Json;

namespace Sluice.Efficiency.Runners;

/// <summary>Builds requests and judges answers the same way for every row.</summary>
internal static class Replies
{
    /// <summary>The header that names each request of the batch (Sluice uses it as the job id, the mock counts it).</summary>
    public const string RequestIdHeader = "X-Sluice-Custom-Id";

    private static readonly MediaTypeHeaderValue Json = new("application/json");

    /// <summary>A request for one body of the batch, tagged with its number so the mock can count duplicates.</summary>
    public static HttpRequestMessage Request(byte[] body, int index)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Scenarios.Workload.Path)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = Json } },
        };
        request.Headers.TryAddWithoutValidation(RequestIdHeader, CustomId(index));
        return request;
    }

    /// <summary>The name of request <paramref name="index"/> (from 0) of the batch: <c>post-1</c>, <c>post-2</c>, …</summary>
    public static string CustomId(int index) => $"post-{index + 1}";

    /// <summary>
    /// Null when <paramref name="body"/> is a chat completion with a message — what the caller wanted — else why not.
    /// </summary>
    public static string? Problem(JsonElement body) =>
        body.ValueKind == JsonValueKind.Object
        && body.TryGetProperty("choices", out var choices)
        && choices.ValueKind == JsonValueKind.Array
        && choices.GetArrayLength() > 0
        && choices[0].TryGetProperty("message", out var message)
        && message.TryGetProperty("content", out var content)
        && content.ValueKind == JsonValueKind.String
            ? null
            : "malformed body";

    /// <summary>
    /// Null when the answer is what the caller wanted — a 2xx whose body is a chat completion with a message — else
    /// why not. A malformed 200 is not wanted (the caller's JSON parsing would fail), so it is lost unless retried.
    /// </summary>
    public static async Task<string?> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            return $"HTTP {(int)response.StatusCode}";
        }

        return await IsWellFormedAsync(response, cancellationToken).ConfigureAwait(false) ? null : "malformed body";
    }

    /// <summary>The name of an exception that ended a request, as a loss reason.</summary>
    public static string Problem(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.GetType().Name;
    }

    private static async Task<bool> IsWellFormedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return Problem(document.RootElement) is null;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
