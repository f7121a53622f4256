using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy;

/// <summary>
/// Who a client is, for its spend cap: the credential it presented (the proxy's key or its own), known only by the
/// first 16 hex digits of its SHA-256. The key itself is never kept, logged or shown; a client presenting none is
/// <c>none</c>, so every keyless client shares one cap.
/// </summary>
internal static class ClientFingerprint
{
    public const string None = "none";

    public static string Of(IHeaderDictionary headers) =>
        ProxyKeys.Presented(headers) is { Length: > 0 } key ? Of(key) : None;

    public static string Of(string key) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 8));
}
