using Microsoft.AspNetCore.Http;
using Sluice.Caching;

namespace Sluice.Proxy;

/// <summary>What the response cache does for one request.</summary>
internal enum CacheUse
{
    /// <summary>The cache is not in play: the upstream does not cache and the request did not ask. No header.</summary>
    None,

    /// <summary>The cache is in play but this request may not use it (<c>off</c>, temperature above 0, several choices, no JSON body): <c>x-sluice-cache: bypass</c>.</summary>
    Bypass,

    /// <summary>Answered from the cache, or sent and stored: <c>x-sluice-cache: hit</c> or <c>miss</c>.</summary>
    Use,
}

/// <summary>
/// The <c>x-sluice-cache</c> request header (<c>use</c> or <c>off</c>, taken off before the request is forwarded) and
/// the upstream's <c>cache</c> setting decide whether a request is looked up in, and stored to, the proxy's response
/// cache. Only deterministic requests (<see cref="CachePolicy.IsDeterministic"/>: temperature 0, one choice) are,
/// unless the upstream says <c>cache_any_temperature</c>: any other answer would not be what the same request gets again.
/// </summary>
internal static class ProxyCacheDirective
{
    public const string HeaderName = "x-sluice-cache";

    public const string Bypass = "bypass";

    /// <summary>The header's value when it is one the proxy knows (<c>use</c>, <c>off</c>, or none); null when it is something else.</summary>
    public static bool TryRead(IHeaderDictionary headers, out string? directive)
    {
        directive = null;
        if (!headers.TryGetValue(HeaderName, out var values) || values.Count == 0)
        {
            return true;
        }

        string value = values.ToString().Trim();
        if (value.Equals("use", StringComparison.OrdinalIgnoreCase) || value.Equals("off", StringComparison.OrdinalIgnoreCase))
        {
            directive = value.ToLowerInvariant();
            return true;
        }

        return false;
    }

    /// <summary>Whether the request uses the cache, bypasses it (and is told so), or never met it.</summary>
    /// <param name="upstream">The upstream the request goes to.</param>
    /// <param name="cacheOpen">Whether the proxy has a cache at all.</param>
    /// <param name="directive">The request's <c>x-sluice-cache</c>: <c>use</c>, <c>off</c> or null.</param>
    /// <param name="method">The request's method: only POSTs (which carry what determines the answer) are cached.</param>
    /// <param name="body">The request's body.</param>
    public static CacheUse Decide(ProxyUpstream upstream, bool cacheOpen, string? directive, string method, ReadOnlySpan<byte> body)
    {
        if (directive is null && !upstream.Cache)
        {
            return CacheUse.None;
        }

        bool wanted = directive == "use" || (upstream.Cache && directive != "off");
        bool eligible = cacheOpen && HttpMethods.IsPost(method) && body.Length > 0 && (upstream.CacheAnyTemperature || CachePolicy.IsDeterministic(body));
        return wanted && eligible ? CacheUse.Use : CacheUse.Bypass;
    }
}
