using System.Net.Http.Headers;

namespace Sluice.Providers;

/// <summary>
/// What Sluice knows about one kind of provider: how to classify its answers into DESIGN.md's outcome classes and how
/// to recognise the proper end of its streams. Profiles are stateless and shared; get one with <see cref="For"/>.
/// </summary>
internal abstract class ProviderProfile
{
    private static readonly ProviderProfile OpenAI = new OpenAIProfile(ProviderKind.OpenAI);
    private static readonly ProviderProfile AzureOpenAI = new OpenAIProfile(ProviderKind.AzureOpenAI);
    private static readonly ProviderProfile OpenAICompatible = new OpenAIProfile(ProviderKind.OpenAICompatible);
    private static readonly ProviderProfile Anthropic = new AnthropicProfile();

    /// <summary>Which provider this profile describes.</summary>
    public abstract ProviderKind Kind { get; }

    /// <summary>The profile of a kind of provider.</summary>
    /// <param name="kind">The provider.</param>
    /// <returns>Its shared profile.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not one of <see cref="ProviderKind"/>'s values.</exception>
    public static ProviderProfile For(ProviderKind kind) => kind switch
    {
        ProviderKind.OpenAI => OpenAI,
        ProviderKind.AzureOpenAI => AzureOpenAI,
        ProviderKind.OpenAICompatible => OpenAICompatible,
        ProviderKind.Anthropic => Anthropic,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown provider kind."),
    };

    /// <summary>
    /// Whether a partition should send one request alone until the first answer's rate-limit headers arrive
    /// (<c>PartitionLimits.AwaitFirstHeaders</c>): for providers whose requests are large against the short-interval
    /// bursts they enforce, so that a cold burst is refused before the budgets are known.
    /// </summary>
    public virtual bool AwaitsFirstHeaders => false;

    /// <summary>
    /// Classifies an answer, reading its rate-limit headers; a throttled
    /// answer's wait comes from its headers, else from the reset of the budget it ran out of, else from its message.
    /// </summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="headers">The answer's headers.</param>
    /// <param name="mediaType">
    /// The media type of the answer's <c>Content-Type</c> (<c>application/json</c>, <c>audio/mpeg</c>), or
    /// <see langword="null"/> when it has none: only a JSON 2xx can be malformed (<see cref="AnswerContent.IsJson"/>).
    /// </param>
    /// <param name="body">
    /// The buffered error body or, for a non-streamed 2xx, the whole body. Empty is allowed: an empty 2xx is a success,
    /// because a streamed answer is classified from its status before its body is read.
    /// </param>
    /// <param name="now">When the answer arrived: header durations become instants from it.</param>
    /// <returns>The classification. Never throws on any body or header value.</returns>
    public Classification Classify(int statusCode, HttpResponseHeaders headers, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        Classify(statusCode, RateLimitHeaders.Parse(headers, now), mediaType, body, now);

    /// <summary>Classifies an answer whose rate-limit headers the caller has already read, so they are read once.</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="limits">The answer's rate-limit headers, read by <see cref="RateLimitHeaders.Parse"/>.</param>
    /// <param name="mediaType">As for the overload taking headers.</param>
    /// <param name="body">As for the overload taking headers.</param>
    /// <param name="now">When the answer arrived.</param>
    /// <returns>The classification, carrying <paramref name="limits"/>.</returns>
    public abstract Classification Classify(int statusCode, RateLimitInfo limits, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now);

    /// <summary>
    /// Whether a line of a streamed answer is its proper end, so a stream that stops without one can be reported as
    /// truncated rather than passed off as complete.
    /// </summary>
    /// <param name="sseLine">One line of the event stream, with or without its line end.</param>
    /// <returns><see langword="true"/> for the provider's terminator.</returns>
    public abstract bool IsStreamTerminator(ReadOnlySpan<byte> sseLine);

    /// <summary>
    /// The tokens to settle a request at, given its reservation and the usage the answer reported. OpenAI counts a
    /// request against its token budget at the larger of its estimate and its <c>max_tokens</c> when it arrives and
    /// gives nothing back, so Sluice refunds nothing either (it still charges extra for an under-estimate); Anthropic
    /// adjusts its output budget to the tokens actually produced, so Sluice refunds too.
    /// </summary>
    /// <param name="reserved">The tokens reserved when the request was admitted.</param>
    /// <param name="used">The tokens the answer says it used.</param>
    /// <returns>The settled cost.</returns>
    public virtual long SettledTokens(long reserved, long used) => Math.Max(reserved, used);

    /// <summary>
    /// What to settle each token dimension of a lease at, from an answer's usage: <see cref="SettledTokens"/> per
    /// dimension, against that dimension's own reservation. A part the answer does not report stays <see langword="null"/>
    /// (its reservation stands).
    /// </summary>
    /// <param name="lease">The admitted lease.</param>
    /// <param name="usage">What the answer reported.</param>
    /// <returns>The settled total, input and output tokens.</returns>
    public TokenUsage Settlement(Gate.GateLease lease, TokenUsage usage) => new(
        usage.Total is { } total ? SettledTokens(lease.ReservedTokens, total) : null,
        usage.Input is { } input ? SettledTokens(lease.Reserved(Gate.BudgetDimension.InputTokens), input) : null,
        usage.Output is { } output ? SettledTokens(lease.Reserved(Gate.BudgetDimension.OutputTokens), output) : null);
}
