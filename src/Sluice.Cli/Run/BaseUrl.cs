namespace Sluice.Cli.Run;

/// <summary>
/// Joins a provider base URL with a batch line's <c>url</c>. Both SDK conventions work: <c>https://api.openai.com</c>
/// and <c>https://api.openai.com/v1</c> give the same <c>https://api.openai.com/v1/chat/completions</c> for
/// <c>/v1/chat/completions</c> — a segment the base ends with and the url starts with is not doubled. A query on the
/// base URL (Azure's <c>?api-version=…</c>) is added to every request.
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

    /// <summary>The absolute URL for a line's <paramref name="path"/> (such as <c>/v1/chat/completions</c>).</summary>
    public static Uri Join(Uri baseUrl, string path)
    {
        string basePath = baseUrl.AbsolutePath.TrimEnd('/');
        string relative = "/" + path.TrimStart('/');
        int lastSlash = basePath.LastIndexOf('/');
        if (lastSlash >= 0 && basePath.Length > lastSlash + 1)
        {
            string lastSegment = basePath[lastSlash..];
            if (relative.StartsWith(lastSegment + "/", StringComparison.OrdinalIgnoreCase))
            {
                basePath = basePath[..lastSlash];
            }
        }

        // A query on the base (Azure's ?api-version=...) goes on every request; one on the line's url is kept too.
        string query = baseUrl.Query.TrimStart('?');
        if (query.Length > 0)
        {
            relative += relative.Contains('?', StringComparison.Ordinal) ? "&" + query : "?" + query;
        }

        return new Uri(baseUrl.GetLeftPart(UriPartial.Authority) + basePath + relative);
    }
}
