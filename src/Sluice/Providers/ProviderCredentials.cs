using System.Net.Http.Headers;

namespace Sluice.Providers;

/// <summary>How each provider wants its key sent, and which headers carry a key: one list for every face.</summary>
public static class ProviderCredentials
{
    /// <summary>
    /// The headers that carry a credential, in the order a partition's key fingerprint looks for them:
    /// <c>Authorization</c> (OpenAI and most providers), <c>x-api-key</c> (Anthropic), <c>api-key</c> (Azure OpenAI).
    /// A face that holds its own key drops these from what a client sent; logs and errors never show their values.
    /// </summary>
    public static IReadOnlyList<string> HeaderNames { get; } = ["Authorization", "x-api-key", "api-key"];

    /// <summary>
    /// Puts a key on a message the way the provider expects it: <c>Authorization: Bearer</c>; Anthropic's
    /// <c>x-api-key</c> with an <c>anthropic-version</c> unless the message has one; Azure's <c>api-key</c>.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="provider">The provider's conventions.</param>
    /// <param name="key">The key; never logged.</param>
    public static void Add(HttpRequestMessage message, ProviderKind provider, string key)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(key);
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
