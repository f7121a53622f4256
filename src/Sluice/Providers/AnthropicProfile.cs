namespace Sluice.Providers;

/// <summary>
/// Anthropic's Messages API: <c>{"type":"error","error":{"type","message"}}</c> bodies, 429 <c>rate_limit_error</c>,
/// 529 <c>overloaded_error</c>, 402 <c>billing_error</c>, <c>anthropic-ratelimit-*</c> headers, and streams that end
/// with a <c>message_stop</c> event.
/// </summary>
internal sealed class AnthropicProfile : ProviderProfile
{
    /// <inheritdoc />
    public override ProviderKind Kind => ProviderKind.Anthropic;

    /// <inheritdoc />
    public override Classification Classify(int statusCode, RateLimitInfo limits, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        OutcomeRules.Classify(statusCode, limits, mediaType, body, now);

    /// <summary>
    /// Anthropic enforces its per-minute output budget over short intervals, and an output cap (<c>max_tokens</c>) is
    /// often more than a second's worth of it: a burst sent before its headers are known would be refused.
    /// </summary>
    public override bool AwaitsFirstHeaders => true;

    /// <inheritdoc />
    public override bool IsStreamTerminator(ReadOnlySpan<byte> sseLine) => SseLine.EventName(sseLine) is "message_stop";

    /// <inheritdoc />
    public override long SettledTokens(long reserved, long used) => used;
}
