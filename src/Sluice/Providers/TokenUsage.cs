namespace Sluice.Providers;

/// <summary>
/// The tokens an answer reports in its <c>usage</c>. Each part is <see langword="null"/> when the answer does not report
/// it; each settles its own budget (<c>Tokens</c>, <c>InputTokens</c>, <c>OutputTokens</c>).
/// </summary>
/// <param name="Total"><c>total_tokens</c>, else input plus output.</param>
/// <param name="Input"><c>prompt_tokens</c> or <c>input_tokens</c>, plus Anthropic's <c>cache_creation_input_tokens</c>.</param>
/// <param name="Output"><c>completion_tokens</c> or <c>output_tokens</c>.</param>
public readonly record struct TokenUsage(long? Total, long? Input, long? Output)
{
    /// <summary>
    /// Input tokens read from the provider's prompt cache, billed at its cached-input price: OpenAI's
    /// <c>prompt_tokens_details.cached_tokens</c> (or <c>input_tokens_details.cached_tokens</c>), a part of
    /// <see cref="Input"/>; Anthropic's <c>cache_read_input_tokens</c>, reported beside its <c>input_tokens</c> and so not
    /// a part of <see cref="Input"/> (they count against no Anthropic budget). <see langword="null"/> when not reported.
    /// </summary>
    public long? CachedInput { get; init; }
}
