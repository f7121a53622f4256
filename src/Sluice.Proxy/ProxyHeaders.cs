using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// Which headers cross the proxy, each way.
/// <list type="bullet">
/// <item>Never, either way: hop-by-hop headers (RFC 9110 §7.6.1) and any the <c>Connection</c> header names; every
/// <c>Proxy-*</c> header; <c>Host</c> and the body's length (the proxy's own); <c>Accept-Encoding</c> (the proxy must
/// read answers — usage, errors, stream ends — and so asks for them plain); a value with a line break or NUL.</item>
/// <item>Client to upstream, when the proxy holds the key: only <see cref="AllowedWhenKeyHeld"/> — what shapes the
/// request and its answer (content type, accept, the providers' version and beta headers, idempotency, user agent, SDK
/// and trace metadata). Nothing that chooses what the proxy's key bills or who the provider thinks is asking:
/// no <c>OpenAI-Organization</c>, <c>OpenAI-Project</c>, <c>Cookie</c>, <c>Forwarded</c>, <c>X-Forwarded-*</c>,
/// <c>X-Real-IP</c>, <c>Via</c>, credentials, or anything unknown.</item>
/// <item>Client to upstream, when clients bring their own keys: everything not refused above (it is their account).</item>
/// <item>Upstream to client: everything not refused above, except <c>Set-Cookie</c>: a provider's cookie is for the
/// proxy's one connection pool, not for every client behind it.</item>
/// </list>
/// </summary>
internal static class ProxyHeaders
{
    /// <summary>The client headers forwarded when the proxy holds the upstream's key; matching ignores case.</summary>
    public static readonly IReadOnlySet<string> AllowedWhenKeyHeld = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        // The request and the answer's form.
        "Content-Type", "Content-Encoding", "Accept", "Accept-Language", "User-Agent",
        // Retries the provider can recognise, and the client's own correlation id.
        "Idempotency-Key", "X-Client-Request-Id", "X-Request-Id", "x-ms-client-request-id",
        // Provider API versions and opt-in features (OpenAI's assistants=v2, Anthropic's betas).
        "OpenAI-Beta", "anthropic-version", "anthropic-beta",
        // W3C trace context.
        "traceparent", "tracestate",
    };

    /// <summary>SDK metadata headers forwarded when the proxy holds the key (the OpenAI and Anthropic SDKs' <c>X-Stainless-*</c>).</summary>
    public const string AllowedPrefixWhenKeyHeld = "X-Stainless-";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Expect", "Accept-Encoding", "Alt-Svc",
    };

    /// <summary>Copies a client's request headers onto the upstream message (and its content).</summary>
    /// <param name="from">The client's headers.</param>
    /// <param name="to">The message to the upstream; its content, if any, gets the content headers.</param>
    /// <param name="keyHeld">True when the proxy holds the key: only the allow-list passes, and the client's credentials stop here.</param>
    public static void CopyRequestHeaders(IHeaderDictionary from, HttpRequestMessage to, bool keyHeld)
    {
        var connectionTokens = ConnectionTokens(from.Connection);
        foreach (var (name, values) in from)
        {
            if (!Forwarded(name, values, connectionTokens) || (keyHeld && !AllowedWhenKeyHeldName(name)))
            {
                continue;
            }

            if (!to.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values))
            {
                to.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string>)values);
            }
        }
    }

    /// <summary>Whether a client header is on the allow-list used when the proxy holds the key. Credentials never are.</summary>
    public static bool AllowedWhenKeyHeldName(string name) =>
        (AllowedWhenKeyHeld.Contains(name) || name.StartsWith(AllowedPrefixWhenKeyHeld, StringComparison.OrdinalIgnoreCase)) &&
        !ProviderCredentials.HeaderNames.Contains(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Copies an upstream answer's headers (message and content) onto the client's response.</summary>
    public static void CopyResponseHeaders(HttpResponseMessage from, IHeaderDictionary to)
    {
        HashSet<string>? connectionTokens = null;
        if (from.Headers.NonValidated.TryGetValues("Connection", out var connection))
        {
            connectionTokens = ConnectionTokens(new StringValues([.. connection]));
        }

        foreach (var (name, values) in from.Headers.NonValidated.Concat(from.Content.Headers.NonValidated))
        {
            var value = new StringValues([.. values]);
            if (Forwarded(name, value, connectionTokens) && !string.Equals(name, "Set-Cookie", StringComparison.OrdinalIgnoreCase))
            {
                to[name] = value;
            }
        }
    }

    /// <summary>Whether one header may cross the proxy at all (either way).</summary>
    public static bool Forwarded(string name, StringValues values, IReadOnlySet<string>? connectionTokens)
    {
        if (HopByHop.Contains(name) || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase) || (connectionTokens?.Contains(name) ?? false))
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
