namespace Sluice.Cli.Common;

/// <summary>
/// Joins a provider base URL with a request path (a batch line's <c>url</c>, or the path a proxy client asked for), the
/// way the official OpenAI SDKs take <c>base_url</c>: the path's leading <c>/v1</c> stands for the API's root, and a
/// base URL with a path <em>is</em> that root. So <c>https://api.groq.com/openai/v1</c> and
/// <c>https://generativelanguage.googleapis.com/v1beta/openai/</c> get <c>…/openai/v1/chat/completions</c> and
/// <c>…/v1beta/openai/chat/completions</c> for <c>/v1/chat/completions</c>, while a bare host such as
/// <c>https://api.openai.com</c> keeps the <c>/v1</c>. A path that does not start with <c>/v1</c> (Azure's
/// <c>/openai/deployments/…</c>) is appended to the base's path, except that a segment the base ends with and the path
/// starts with is not doubled. A query on the base URL (Azure's <c>?api-version=…</c>) is added to every request.
/// </summary>
internal static class BaseUrl
{
    /// <summary>Reads a base URL: absolute http(s), no user info or fragment.</summary>
    /// <returns>The URL, or null with <paramref name="problem"/> saying why not.</returns>
    public static Uri? TryParse(string text, out string? problem)
    {
        problem = null;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            problem = $"'{text}' is not an http:// or https:// URL";
            return null;
        }

        if (uri.Fragment.Length > 0 || uri.UserInfo.Length > 0)
        {
            problem = $"'{uri.GetLeftPart(UriPartial.Authority)}…' must be a plain base URL, without user info or fragment";
            return null;
        }

        return uri;
    }

    /// <summary>The absolute URL for a <paramref name="path"/> such as <c>/v1/chat/completions</c> (it may carry a query).</summary>
    public static Uri Join(Uri baseUrl, string path)
    {
        string basePath = baseUrl.AbsolutePath.TrimEnd('/');
        string relative = "/" + path.TrimStart('/');
        if (basePath.Length > 0)
        {
            if (StartsWithSegment(relative, "/v1"))
            {
                // The base URL's path is the API root that /v1 stands for, as in the SDKs.
                relative = relative[3..];
            }
            else if (basePath[basePath.LastIndexOf('/')..] is { Length: > 1 } lastSegment && StartsWithSegment(relative, lastSegment))
            {
                basePath = basePath[..^lastSegment.Length];
            }
        }

        // A query on the base (Azure's ?api-version=...) goes on every request; one on the path is kept too.
        string query = baseUrl.Query.TrimStart('?');
        if (query.Length > 0)
        {
            relative += relative.Contains('?', StringComparison.Ordinal) ? "&" + query : "?" + query;
        }

        return new Uri(baseUrl.GetLeftPart(UriPartial.Authority) + basePath + relative);
    }

    // "/v1/chat", "/v1?x" and "/v1" start with the segment "/v1"; "/v1beta/…" does not.
    private static bool StartsWithSegment(string path, string segment) =>
        path.StartsWith(segment, StringComparison.OrdinalIgnoreCase) &&
        (path.Length == segment.Length || path[segment.Length] is '/' or '?');
}
