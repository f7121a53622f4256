namespace Sluice.Proxy;

/// <summary>
/// Refuses request targets that try to reach anything but the configured upstream: an absolute URL
/// (<c>POST http://elsewhere/v1/…</c>, a forward-proxy request), an authority form (<c>CONNECT host:443</c>), a
/// scheme-relative or backslashed path, encoded slashes or dots, and dot segments. The proxy would never send such a
/// request elsewhere anyway — the upstream comes only from configuration — but a clear refusal beats a surprise.
/// </summary>
internal static class ProxyRequestGuard
{
    /// <summary>Why the request's target is refused, or null when it is an ordinary path.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="rawTarget">The request target exactly as the client sent it.</param>
    public static string? Refusal(string method, string rawTarget)
    {
        if (string.Equals(method, "CONNECT", StringComparison.OrdinalIgnoreCase))
        {
            return "CONNECT is not supported: this is not a forward proxy, and the upstream comes only from its configuration";
        }

        if (!rawTarget.StartsWith('/'))
        {
            return "the request target must be a path: the upstream comes only from the proxy's configuration, never from a request";
        }

        string path = rawTarget.Split('?', 2)[0];
        if (path.StartsWith("//", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            return "the request path must not name a host";
        }

        if (path.Contains("%2f", StringComparison.OrdinalIgnoreCase) || path.Contains("%5c", StringComparison.OrdinalIgnoreCase) ||
            path.Contains("%2e", StringComparison.OrdinalIgnoreCase))
        {
            return "the request path must not contain encoded slashes or dots";
        }

        foreach (string segment in path.Split('/'))
        {
            if (segment is "." or "..")
            {
                return "the request path must not contain . or .. segments";
            }
        }

        return null;
    }
}
