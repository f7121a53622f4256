using System.Collections.Concurrent;
using System.Net;

namespace Sluice.Engine;

/// <summary>
/// The provider's answer that stopped each stopped partition (quota used up, credential rejected), kept so that later
/// callers of that partition get the provider's own error at once instead of a retry storm or a generic failure.
/// </summary>
/// <remarks>
/// One answer per partition, replaced by the next stop, and removed with its partition when the gate evicts it: bounded
/// by the partitions the gate holds. An answer is tied to the stop it caused (its reason, once the stopping request
/// ends): a later, different stop — a park on a long Retry-After, a stop by hand — is never answered with it.
/// </remarks>
internal sealed class StopAnswers
{
    private readonly ConcurrentDictionary<string, StoppedAnswer> _answers = new(StringComparer.Ordinal);

    /// <summary>Holds the answer that is about to stop <paramref name="partition"/>; not yet tied to a stop reason.</summary>
    public void Remember(string partition, HttpResponseMessage response, byte[] body) =>
        _answers[partition] = new StoppedAnswer(response.StatusCode, response.ReasonPhrase, body, [.. response.Content.Headers], [.. response.Headers], StopReason: null);

    /// <summary>
    /// Ties the answer held for <paramref name="partition"/> to the stop now in force, <paramref name="stopReason"/>;
    /// called when the request that stopped it ends. An answer that stopped nothing (the partition is not stopped) is dropped.
    /// </summary>
    public void Bind(string partition, string? stopReason)
    {
        if (!_answers.TryGetValue(partition, out var answer) || answer.StopReason is not null)
        {
            return;
        }

        if (stopReason is null)
        {
            _answers.TryRemove(KeyValuePair.Create(partition, answer));
        }
        else
        {
            _answers.TryUpdate(partition, answer with { StopReason = stopReason }, answer);
        }
    }

    /// <summary>Forgets <paramref name="partition"/>'s answer: the gate removed the partition.</summary>
    public void Forget(string partition) => _answers.TryRemove(partition, out _);

    /// <summary>Partitions with an answer held, for tests.</summary>
    internal int Count => _answers.Count;

    /// <summary>
    /// The answer that stopped <paramref name="partition"/>, as a new response for another caller; null when none is
    /// held, or the one held belongs to an earlier stop than <paramref name="stopReason"/>, the one in force.
    /// </summary>
    public HttpResponseMessage? For(string partition, string? stopReason, HttpRequestMessage? request)
    {
        if (!_answers.TryGetValue(partition, out var answer))
        {
            return null;
        }

        if (answer.StopReason is { } bound && !string.Equals(bound, stopReason, StringComparison.Ordinal))
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
        KeyValuePair<string, IEnumerable<string>>[] Headers,
        string? StopReason);
}
