namespace Sluice.Providers;

/// <summary>
/// Which API an upstream speaks. It decides how answers are classified (DESIGN.md's outcome classes), which
/// rate-limit headers are read, and how a stream's end is recognised.
/// </summary>
public enum ProviderKind
{
    /// <summary>OpenAI's API (<c>api.openai.com</c>): <c>x-ratelimit-*</c> headers, <c>data: [DONE]</c> streams.</summary>
    OpenAI = 0,

    /// <summary>Azure OpenAI: OpenAI's rules plus <c>x-ms-retry-after-ms</c> and Azure's own 429 wording.</summary>
    AzureOpenAI,

    /// <summary>Anthropic's Messages API: <c>anthropic-ratelimit-*</c> headers, 529 overloaded, <c>message_stop</c> streams.</summary>
    Anthropic,

    /// <summary>Any other server that speaks OpenAI's protocol (vLLM, gateways, local servers): OpenAI's rules.</summary>
    OpenAICompatible,
}
