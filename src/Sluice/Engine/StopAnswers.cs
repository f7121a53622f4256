using System.Collections.Concurrent;
using System.Net;

namespace Sluice.Engine;

/// <summary>
/// The provider's answer that stopped each stopped partition (quota used up, credential rejected), kept so that later
/// callers of that partition get the provider's own error at once instead of a retry storm or a generic failure.
/// One answer per partition, replaced by the next stop: bounded by the partitions the gate holds.
/// </summary>
internal sealed class StopAnswers
{
    private readonly ConcurrentDictionary<string, StoppedAnswer> _answers = new(StringComparer.Ordinal);

    public void Remember(string partition, HttpResponseMessage response, byte[] body) =>
        _answers[partition] = new StoppedAnswer(response.StatusCode, response.ReasonPhrase, body, [.. response.Content.Headers], [.. response.Headers]);

    /// <summary>The answer that stopped <paramref name="partition"/>, as a new response for another caller.</summary>
    public HttpResponseMessage? For(string partition, HttpRequestMessage? request)
    {
        if (!_answers.TryGetValue(partition, out var answer))
        {
            return null;
        }

        var response = new HttpResponseMessage(answer.Status)
        {
            ReasonPhrase = answer.ReasonPhrase,
            RequestMessage = request,
            Content = new ByteArrayContent(answer.Body),
        };
        ContentHeaders.Copy(answer.ContentHeaders, response.Content.Headers);
        foreach (var header in answer.Headers)
        {
            response.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return response;
    }

    private sealed record StoppedAnswer(
        HttpStatusCode Status,
        string? ReasonPhrase,
        byte[] Body,
        KeyValuePair<string, IEnumerable<string>>[] ContentHeaders,
        KeyValuePair<string, IEnumerable<string>>[] Headers);
}
