using System.Text.Json;

namespace Sluice.Providers;

/// <summary>
/// The error a provider put in its answer's body, in any of the shapes seen in practice: OpenAI and Azure
/// <c>{"error":{"message","type","code","param"}}</c>, Anthropic <c>{"type":"error","error":{"type","message"}}</c>,
/// and the looser <c>{"error":"..."}</c>, <c>{"message":"..."}</c> or <c>{"detail":"..."}</c> of OpenAI-compatible servers.
/// </summary>
/// <param name="Message">The provider's own words, raw (not yet truncated or redacted).</param>
/// <param name="Type">OpenAI's <c>error.type</c> (<c>tokens</c>, <c>requests</c>, <c>insufficient_quota</c>) or Anthropic's (<c>rate_limit_error</c>).</param>
/// <param name="Code">OpenAI's and Azure's <c>error.code</c> (<c>rate_limit_exceeded</c>, <c>context_length_exceeded</c>, <c>429</c>).</param>
internal readonly record struct ProviderError(string? Message, string? Type, string? Code)
{
    /// <summary>The most specific name the provider gave the error: its code, else its type.</summary>
    public string? Name => Code ?? Type;

    /// <summary>Reads the error from a body; an empty result when the body holds none or is not JSON.</summary>
    /// <param name="body">The answer's body.</param>
    /// <returns>What the body said.</returns>
    public static ProviderError Read(ReadOnlySpan<byte> body)
    {
        if (!JsonBody.TryParse(body, out var document))
        {
            return default;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return default;
            }

            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.Object)
                {
                    return new ProviderError(
                        JsonBody.GetText(error, "message"), JsonBody.GetText(error, "type"), JsonBody.GetText(error, "code"));
                }

                if (error.ValueKind == JsonValueKind.String)
                {
                    return new ProviderError(error.GetString(), JsonBody.GetText(root, "type"), JsonBody.GetText(root, "code"));
                }
            }

            var message = JsonBody.GetText(root, "message") ?? JsonBody.GetText(root, "detail");
            return message is null
                ? default
                : new ProviderError(message, JsonBody.GetText(root, "type"), JsonBody.GetText(root, "code"));
        }
    }
}
