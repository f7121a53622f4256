namespace Sluice.Providers;

/// <summary>
/// OpenAI, Azure OpenAI and OpenAI-compatible servers. They share OpenAI's error bodies and headers; Azure adds
/// <c>x-ms-retry-after-ms</c> (read by <see cref="RateLimitHeaders"/>) and 429 bodies with <c>"code":"429"</c> and
/// "Please retry after N seconds" (read by <see cref="OutcomeRules"/>).
/// </summary>
/// <remarks>
/// Streams end with <c>data: [DONE]</c> (chat and legacy completions) or, for the Responses API, which sends no
/// <c>[DONE]</c>, with a <c>response.completed</c>, <c>response.incomplete</c> or <c>response.failed</c> event.
/// </remarks>
internal sealed class OpenAIProfile : ProviderProfile
{
    /// <summary>Makes the profile for one of the OpenAI-protocol kinds.</summary>
    /// <param name="kind"><see cref="ProviderKind.OpenAI"/>, <see cref="ProviderKind.AzureOpenAI"/> or <see cref="ProviderKind.OpenAICompatible"/>.</param>
    public OpenAIProfile(ProviderKind kind)
    {
        if (kind == ProviderKind.Anthropic)
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "Anthropic has its own profile.");
        }

        Kind = kind;
    }

    /// <inheritdoc />
    public override ProviderKind Kind { get; }

    /// <inheritdoc />
    public override Classification Classify(int statusCode, RateLimitInfo limits, string? mediaType, ReadOnlySpan<byte> body, DateTimeOffset now) =>
        OutcomeRules.Classify(statusCode, limits, mediaType, body, now);

    /// <inheritdoc />
    public override bool IsStreamTerminator(ReadOnlySpan<byte> sseLine)
    {
        if (SseLine.TryGetData(sseLine, out var payload) && payload.SequenceEqual("[DONE]"u8))
        {
            return true;
        }

        return SseLine.EventName(sseLine) is "response.completed" or "response.incomplete" or "response.failed";
    }
}
