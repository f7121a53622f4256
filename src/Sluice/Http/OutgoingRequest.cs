using System.Net.Http.Headers;
using Sluice.Providers;

namespace Sluice.Http;

/// <summary>
/// A request captured once so it can be sent again: its body buffered (and, for an OpenAI stream, asked to report
/// usage), its cost estimated and its model read. Headers are copied from the caller's message at each send, so a
/// credential refreshed on that message is used by the next try.
/// </summary>
internal sealed class OutgoingRequest
{
    private readonly HttpRequestMessage _original;
    private readonly byte[] _body;
    private readonly KeyValuePair<string, IEnumerable<string>>[] _contentHeaders;

    private OutgoingRequest(HttpRequestMessage original, byte[] body, KeyValuePair<string, IEnumerable<string>>[] contentHeaders, bool hasContent)
    {
        _original = original;
        _contentHeaders = contentHeaders;
        HasContent = hasContent;
        Path = original.RequestUri?.IsAbsoluteUri == true ? original.RequestUri.AbsolutePath : original.RequestUri?.OriginalString ?? "/";
        IsStreaming = hasContent && UsageReader.IsStreaming(body);
        _body = IsStreaming ? UsageReader.EnsureStreamUsage(Path, body) : body;
        Model = hasContent ? TokenEstimator.ReadModel(_body) : null;
        var estimate = hasContent ? TokenEstimator.Shared.Estimate(Path, _body) : default;
        EstimatedTokens = estimate.Total;
        EstimatedInputTokens = estimate.Prompt;
        EstimatedOutputTokens = estimate.OutputCap;
    }

    public string Path { get; }

    public bool HasContent { get; }

    public bool IsStreaming { get; }

    public string? Model { get; }

    /// <summary>Prompt estimate plus output cap, for the token budget.</summary>
    public long EstimatedTokens { get; }

    /// <summary>The prompt estimate, for an input-token budget.</summary>
    public long EstimatedInputTokens { get; }

    /// <summary>The output cap, for an output-token budget.</summary>
    public long EstimatedOutputTokens { get; }

    /// <summary>A job for this request with every estimate filled in.</summary>
    public Dispatch.SluiceJob Job(string id, string partition) => new(id, partition)
    {
        EstimatedTokens = EstimatedTokens,
        EstimatedInputTokens = EstimatedInputTokens,
        EstimatedOutputTokens = EstimatedOutputTokens,
    };

    public static async ValueTask<OutgoingRequest> CaptureAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is null)
        {
            return new OutgoingRequest(request, [], [], hasContent: false);
        }

        byte[] body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return new OutgoingRequest(request, body, [.. request.Content.Headers], hasContent: true);
    }

    /// <summary>A fresh message for one try: a message can be sent only once.</summary>
    public HttpRequestMessage CreateMessage()
    {
        var message = new HttpRequestMessage(_original.Method, _original.RequestUri)
        {
            Version = _original.Version,
            VersionPolicy = _original.VersionPolicy,
        };
        foreach (var header in _original.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in _original.Options)
        {
            ((IDictionary<string, object?>)message.Options)[option.Key] = option.Value;
        }

        if (HasContent)
        {
            var content = new ByteArrayContent(_body);
            CopyContentHeaders(_contentHeaders, content.Headers);
            message.Content = content;
        }

        return message;
    }

    /// <summary>Replaces a response's content with its buffered bytes, keeping its content headers.</summary>
    public static void Rebuffer(HttpResponseMessage response, byte[] body)
    {
        var buffered = new ByteArrayContent(body);
        CopyContentHeaders(response.Content.Headers, buffered.Headers);
        response.Content.Dispose();
        response.Content = buffered;
    }

    /// <summary>Copies the headers that describe a body, all but its length, which the new content states itself.</summary>
    public static void CopyContentHeaders(IEnumerable<KeyValuePair<string, IEnumerable<string>>> from, HttpContentHeaders to)
    {
        foreach (var header in from)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                to.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }
}
