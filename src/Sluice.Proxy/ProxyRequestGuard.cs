using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy;

/// <summary>
/// Refuses request targets that try to reach anything but the configured upstream's API root, in two checks:
/// <list type="number">
/// <item>the target as the client sent it (<see cref="Refusal"/>): not an absolute URL or authority form, and a path
/// of plain segments — no empty, dot or dots-only segment, no <c>\</c> or <c>;</c>, and percent-escapes only of letters,
/// digits and <c>- _ ~ : @ ! $ &amp; ' ( ) * + , =</c>, so an encoded slash, backslash, dot, percent (a double
/// encoding), <c>?</c>, <c>#</c>, control or non-ASCII byte (overlong UTF-8) never reaches anyone who might decode it;</item>
/// <item>the URL actually sent, after every decoding the <see cref="Uri"/> does (<see cref="SentRefusal"/>): the
/// upstream's API root followed by exactly the client's segments, and the client's query followed by the base URL's.</item>
/// </list>
/// The proxy forwards the raw path, never the server's decoded one, so what was checked is what is sent. The upstream
/// itself comes only from configuration.
/// </summary>
internal static class ProxyRequestGuard
{
    private const string ApiRoot = "/v1/";

    // RFC 3986 sub-delims (less ';') and ':' '@': allowed in a path segment, plain or percent-encoded.
    private const string SegmentPunctuation = "-_~:@!$&'()*+,=";

    // Characters a query may hold plain (RFC 3986 §3.4); anything else must be percent-encoded.
    private const string QueryPunctuation = "-._~!$&'()*+,;=:@/?";

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

        int question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        string path = question < 0 ? rawTarget : rawTarget[..question];
        return PathRefusal(path) ?? (question < 0 ? null : QueryRefusal(rawTarget[(question + 1)..]));
    }

    /// <summary>The methods forwarded, as an <c>Allow</c> header lists them.</summary>
    public const string ForwardedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

    /// <summary>
    /// Whether a method is one an HTTP API uses. Others are refused with 405: <c>TRACE</c> (and <c>TRACK</c>) ask the
    /// upstream to echo the request back, headers and the proxy's key included; an unknown method has no use here.
    /// </summary>
    public static bool IsForwardedMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsPost(method) || HttpMethods.IsPut(method) ||
        HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method) || HttpMethods.IsOptions(method);

    /// <summary>Splits a raw target into its path and its query (with the <c>?</c>, or empty).</summary>
    public static (string Path, string Query) Split(string rawTarget)
    {
        int question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        return question < 0 ? (rawTarget, "") : (rawTarget[..question], rawTarget[question..]);
    }

    /// <summary>
    /// Why the URL about to be sent is refused, or null when it is the upstream's API root followed by exactly the
    /// client's path after <c>/v1/</c>, with the client's query and then the base URL's.
    /// </summary>
    /// <param name="upstream">The upstream's configured base URL.</param>
    /// <param name="upstreamPath">The raw path the client asked for, already checked, such as <c>/v1/chat/completions</c>.</param>
    /// <param name="query">The client's raw query, with its <c>?</c>, or empty.</param>
    /// <param name="sent">The URL the message carries.</param>
    public static string? SentRefusal(Uri upstream, string upstreamPath, string query, Uri sent)
    {
        const string Changed = "the request target would change on its way to the upstream";
        if (!upstreamPath.StartsWith(ApiRoot, StringComparison.Ordinal) ||
            !string.Equals(sent.GetLeftPart(UriPartial.Authority), upstream.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            return Changed;
        }

        string root = Sluice.Providers.BaseUrl.Join(upstream, ApiRoot).AbsolutePath;
        string expectedPath = root + upstreamPath[ApiRoot.Length..];
        string baseQuery = upstream.Query.TrimStart('?');
        string clientQuery = query.TrimStart('?');
        // As BaseUrl.Join puts them: the client's query (even an empty one after a bare '?'), then the base URL's.
        string expectedQuery = query.Length == 0 ? baseQuery : baseQuery.Length == 0 ? clientQuery : clientQuery + "&" + baseQuery;
        return Canonical(sent.AbsolutePath) == Canonical(expectedPath) && Canonical(sent.Query.TrimStart('?')) == Canonical(expectedQuery)
            ? null
            : Changed;
    }

    private static string? PathRefusal(string path)
    {
        if (path.StartsWith("//", StringComparison.Ordinal) || path.Contains('\\', StringComparison.Ordinal))
        {
            return "the request path must not name a host";
        }

        // The first segment is empty (the path starts with '/'); a trailing '/' leaves one more, which is harmless.
        string[] segments = path.Split('/');
        for (int i = 1; i < segments.Length; i++)
        {
            string segment = segments[i];
            if (segment.Length == 0 && i < segments.Length - 1)
            {
                return "the request path must not contain empty segments (//)";
            }

            if (segment.Length > 0 && segment.AsSpan().Trim('.').IsEmpty)
            {
                return "the request path must not contain . or .. segments";
            }

            if (SegmentRefusal(segment) is { } refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    private static string? SegmentRefusal(string segment)
    {
        for (int i = 0; i < segment.Length; i++)
        {
            char c = segment[i];
            if (c == '%')
            {
                if (Escaped(segment, i) is not char decoded)
                {
                    return "the request path has a malformed percent-escape";
                }

                if (!char.IsAsciiLetterOrDigit(decoded) && !SegmentPunctuation.Contains(decoded, StringComparison.Ordinal))
                {
                    return "the request path must not contain encoded slashes, backslashes, dots, percent signs, '?', '#', ';', spaces, control or non-ASCII characters";
                }

                i += 2;
            }
            else if (c == ';')
            {
                return "the request path must not contain ';' parameters";
            }
            else if (!char.IsAsciiLetterOrDigit(c) && c != '.' && !SegmentPunctuation.Contains(c, StringComparison.Ordinal))
            {
                return "the request path may contain only letters, digits and - . _ ~ : @ ! $ & ' ( ) * + , =";
            }
        }

        return null;
    }

    private static string? QueryRefusal(string query)
    {
        for (int i = 0; i < query.Length; i++)
        {
            char c = query[i];
            if (c == '%')
            {
                if (Escaped(query, i) is null)
                {
                    return "the request query has a malformed percent-escape";
                }

                i += 2;
            }
            else if (!char.IsAsciiLetterOrDigit(c) && !QueryPunctuation.Contains(c, StringComparison.Ordinal))
            {
                return "the request query may contain only letters, digits, percent-escapes and - . _ ~ ! $ & ' ( ) * + , ; = : @ / ?";
            }
        }

        return null;
    }

    /// <summary>The character a <c>%HH</c> escape at <paramref name="at"/> stands for, or null when it is malformed.</summary>
    private static char? Escaped(string text, int at) =>
        at + 2 < text.Length && char.IsAsciiHexDigit(text[at + 1]) && char.IsAsciiHexDigit(text[at + 2])
            ? (char)Convert.ToByte(text.Substring(at + 1, 2), 16)
            : null;

    /// <summary>
    /// The form two URL parts are compared in: escapes of unreserved characters decoded (as <see cref="Uri"/> does),
    /// other escapes' hex in upper case. Any other difference is a change of meaning.
    /// </summary>
    private static string Canonical(string text)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            return text;
        }

        var result = new System.Text.StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '%' && Escaped(text, i) is char decoded)
            {
                if (char.IsAsciiLetterOrDigit(decoded) || decoded is '-' or '.' or '_' or '~')
                {
                    result.Append(decoded);
                }
                else
                {
                    result.Append('%').Append(char.ToUpperInvariant(text[i + 1])).Append(char.ToUpperInvariant(text[i + 2]));
                }

                i += 2;
            }
            else
            {
                result.Append(text[i]);
            }
        }

        return result.ToString();
    }
}
