using Microsoft.AspNetCore.Http;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// The client side of keys: reading the credential a client presented. <see cref="ProxyTenants"/> checks it against the
/// proxy's own key and the tenants' keys, by hash, in constant time. Keys are compared, never logged, never echoed.
/// </summary>
internal static class ProxyKeys
{
    /// <summary>The credential a client sent: a Bearer token, <c>x-api-key</c> or <c>api-key</c>; null when none.</summary>
    public static string? Presented(IHeaderDictionary headers)
    {
        string authorization = headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        // The other credential headers carry the key bare; one list names them all (ProviderCredentials.HeaderNames).
        foreach (string name in ProviderCredentials.HeaderNames)
        {
            if (!string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) &&
                headers.TryGetValue(name, out var value) && value.Count > 0 && !string.IsNullOrEmpty(value[0]))
            {
                return value[0]!.Trim();
            }
        }

        return null;
    }
}
