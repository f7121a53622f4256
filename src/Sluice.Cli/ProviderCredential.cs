using System.Net.Http.Headers;
using Sluice.Providers;

namespace Sluice.Cli;

/// <summary>How each provider wants its key sent; shared by <c>sluice run</c> and <c>sluice proxy</c>.</summary>
internal static class ProviderCredential
{
    /// <summary>
    /// Puts a key on a message the way the provider expects it (<c>Authorization: Bearer</c>, Anthropic's
    /// <c>x-api-key</c> with an <c>anthropic-version</c> unless the client sent one, Azure's <c>api-key</c>). Used by the
    /// proxy for the key it holds and by <c>sluice run</c> for its key.
    /// </summary>
    public static void Add(HttpRequestMessage message, ProviderKind provider, string key)
    {
        switch (provider)
        {
            case ProviderKind.Anthropic:
                message.Headers.TryAddWithoutValidation("x-api-key", key);
                if (!message.Headers.Contains("anthropic-version"))
                {
                    message.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
                }

                break;
            case ProviderKind.AzureOpenAI:
                message.Headers.TryAddWithoutValidation("api-key", key);
                break;
            default:
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                break;
        }
    }
}
