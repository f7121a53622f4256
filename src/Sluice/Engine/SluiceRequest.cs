using Sluice.Dispatch;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// A request captured once by <see cref="SluiceEngine.Capture"/> so that it can be sent as many times as its job
/// needs: its body buffered (and, for a streamed chat completion, asked to report usage), read once for its model and
/// token estimate, and named by its partition. Each try sends a fresh message made from it; headers are copied from
/// the message it was captured from at each try, so a credential refreshed on that message is used by the next one.
/// </summary>
public sealed class SluiceRequest
{
    private readonly HttpRequestMessage _template;
    private readonly KeyValuePair<string, IEnumerable<string>>[] _contentHeaders;

    // Made on first use: a request answered from the response cache never counts its prompt's tokens.
    private readonly Lazy<TokenEstimate> _estimate;

    internal SluiceRequest(HttpRequestMessage template, byte[]? body, string id, string partition, RequestFacts facts, Func<TokenEstimate> estimate)
    {
        _estimate = new Lazy<TokenEstimate>(estimate, LazyThreadSafetyMode.ExecutionAndPublication);
        _template = template;
        _contentHeaders = template.Content is { } content ? [.. content.Headers] : [];
        HasContent = body is not null;
        Body = facts.Body;
        Id = id;
        Partition = partition;
        Model = facts.Model;
        IsStreaming = facts.IsStreaming;
        UsageAdded = facts.UsageAdded;
    }

    /// <summary>The request's id: the caller's, else <c>X-Sluice-Custom-Id</c> or <c>X-Request-Id</c>, else a number.</summary>
    public string Id { get; }

    /// <summary>The partition the request waits at: <c>scope|key:fingerprint|model group</c>, never the credential itself.</summary>
    public string Partition { get; }

    /// <summary>The body's <c>model</c>, or <see langword="null"/> when it names none.</summary>
    public string? Model { get; }

    /// <summary>True when the body asks for a streamed answer, whose 2xx body is passed through as it arrives.</summary>
    public bool IsStreaming { get; }

    /// <summary>
    /// True when Sluice asked a streamed chat completion to end with a usage chunk the caller did not ask for, so a
    /// face relaying the stream can leave that chunk out.
    /// </summary>
    public bool UsageAdded { get; }

    /// <summary>The body as it is sent; empty for a request without one.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The prompt's estimated tokens, reserved against an input-token budget; counted when first asked for.</summary>
    public long EstimatedInputTokens => _estimate.Value.Prompt;

    /// <summary>The output cap, reserved against an output-token budget.</summary>
    public long EstimatedOutputTokens => _estimate.Value.OutputCap;

    /// <summary>Prompt estimate plus output cap, reserved against a token budget.</summary>
    public long EstimatedTokens => EstimatedInputTokens + EstimatedOutputTokens;

    internal bool HasContent { get; }

    /// <summary>The message the request was captured from, whose headers a credential refresh updates.</summary>
    internal HttpRequestMessage Template => _template;

    /// <summary>The request as a job for the dispatcher, with every estimate filled in and the face's tenant and priority.</summary>
    internal SluiceJob Job(SluiceSendOptions? options) => new(Id, Partition)
    {
        Tenant = options?.Tenant,
        Priority = options?.Priority ?? 0,
        EstimatedTokens = EstimatedTokens,
        EstimatedInputTokens = EstimatedInputTokens,
        EstimatedOutputTokens = EstimatedOutputTokens,
    };

    /// <summary>A fresh message for one try: a message can be sent only once.</summary>
    /// <returns>A new message with the captured method, address, headers, options and body.</returns>
    public HttpRequestMessage CreateMessage()
    {
        var message = new HttpRequestMessage(_template.Method, _template.RequestUri)
        {
            Version = _template.Version,
            VersionPolicy = _template.VersionPolicy,
        };
        foreach (var header in _template.Headers)
        {
            message.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in _template.Options)
        {
            ((IDictionary<string, object?>)message.Options)[option.Key] = option.Value;
        }

        if (HasContent)
        {
            var content = new ReadOnlyMemoryContent(Body);
            ContentHeaders.Copy(_contentHeaders, content.Headers);
            message.Content = content;
        }

        return message;
    }

    /// <summary>The <c>model</c> of a JSON request body, for a face that routes by model before it captures.</summary>
    /// <param name="body">The body.</param>
    /// <returns>The model, or <see langword="null"/> when absent, not a string, or the body is not JSON.</returns>
    public static string? ReadModel(ReadOnlySpan<byte> body) => TokenEstimator.ReadModel(body);
}
