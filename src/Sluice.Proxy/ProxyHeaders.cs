using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// Which headers cross the proxy, each way. Hop-by-hop headers (RFC 9110 §7.6.1, plus any the <c>Connection</c>
/// header names) belong to one connection and stop here; <c>Host</c> and the body's length are the proxy's own;
/// <c>Accept-Encoding</c> stops because the proxy must read answers (usage, errors, stream ends) and so asks for them
/// plain. A value carrying a line break or NUL is dropped rather than risk header injection. Credentials are replaced
/// when the proxy holds the upstream's key.
/// </summary>
internal static class ProxyHeaders
{
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect", "Accept-Encoding", "Alt-Svc",
    };

    /// <summary>Copies a client's request headers onto the upstream message (and its content).</summary>
    /// <param name="from">The client's headers.</param>
    /// <param name="to">The message to the upstream; its content, if any, gets the content headers.</param>
    /// <param name="dropCredentials">True when the proxy holds the key: the client's credentials stop here.</param>
    public static void CopyRequestHeaders(IHeaderDictionary from, HttpRequestMessage to, bool dropCredentials)
    {
        var connectionTokens = ConnectionTokens(from.Connection);
        foreach (var (name, values) in from)
        {
            if (!Forwarded(name, values, connectionTokens) ||
                (dropCredentials && ProviderCredentials.HeaderNames.Contains(name, StringComparer.OrdinalIgnoreCase)))
            {
                continue;
            }

            if (!to.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                to.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }
    }

    /// <summary>Copies an upstream answer's headers (message and content) onto the client's response.</summary>
    public static void CopyResponseHeaders(HttpResponseMessage from, IHeaderDictionary to)
    {
        var connectionTokens = from.Headers.Connection.Count > 0 ? new HashSet<string>(from.Headers.Connection, StringComparer.OrdinalIgnoreCase) : null;
        foreach (var (name, values) in from.Headers.NonValidated.Concat(from.Content.Headers.NonValidated))
        {
            var value = new StringValues([.. values]);
            if (Forwarded(name, value, connectionTokens))
            {
                to[name] = value;
            }
        }
    }

    /// <summary>Whether one header crosses the proxy.</summary>
    public static bool Forwarded(string name, StringValues values, IReadOnlySet<string>? connectionTokens)
    {
        if (HopByHop.Contains(name) || (connectionTokens?.Contains(name) ?? false))
        {
            return false;
        }

        foreach (string? value in values)
        {
            if (value is not null && value.AsSpan().IndexOfAny('\r', '\n', '\0') >= 0)
            {
                return false;
            }
        }

        return true;
    }

    private static HashSet<string>? ConnectionTokens(StringValues connection)
    {
        if (connection.Count == 0)
        {
            return null;
        }

        var tokens = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string? value in connection)
        {
            foreach (string token in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                tokens.Add(token);
            }
        }

        return tokens;
    }
}
