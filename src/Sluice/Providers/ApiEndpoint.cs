namespace Sluice.Providers;

/// <summary>The API a request goes to, told from its path; it decides where a request body keeps its prompt and output cap.</summary>
public enum ApiEndpoint
{
    /// <summary>A path Sluice does not recognise: every usual prompt field is read.</summary>
    Unknown = 0,

    /// <summary>OpenAI <c>/v1/chat/completions</c> (Azure: <c>/openai/deployments/{name}/chat/completions</c>).</summary>
    ChatCompletions,

    /// <summary>OpenAI's legacy <c>/v1/completions</c>: a <c>prompt</c>.</summary>
    Completions,

    /// <summary>OpenAI <c>/v1/responses</c>: <c>instructions</c> and <c>input</c>.</summary>
    Responses,

    /// <summary>OpenAI <c>/v1/embeddings</c>: an <c>input</c>, and no output.</summary>
    Embeddings,

    /// <summary>Anthropic <c>/v1/messages</c>: <c>system</c> and <c>messages</c>.</summary>
    Messages,
}

/// <summary>Tells <see cref="ApiEndpoint"/>s from request paths.</summary>
public static class ApiEndpoints
{
    private const string AzureDeployments = "/openai/deployments/";

    /// <summary>The endpoint a path addresses, by its last segments; a query string is ignored.</summary>
    /// <param name="path">The request path, such as <c>/v1/chat/completions</c>.</param>
    /// <returns>The endpoint, or <see cref="ApiEndpoint.Unknown"/>.</returns>
    public static ApiEndpoint FromPath(string? path)
    {
        var p = Trim(path);
        return p.EndsWith("/chat/completions", StringComparison.OrdinalIgnoreCase) ? ApiEndpoint.ChatCompletions
            : p.EndsWith("/completions", StringComparison.OrdinalIgnoreCase) ? ApiEndpoint.Completions
            : p.EndsWith("/responses", StringComparison.OrdinalIgnoreCase) ? ApiEndpoint.Responses
            : p.EndsWith("/embeddings", StringComparison.OrdinalIgnoreCase) ? ApiEndpoint.Embeddings
            : p.EndsWith("/messages", StringComparison.OrdinalIgnoreCase) ? ApiEndpoint.Messages
            : ApiEndpoint.Unknown;
    }

    /// <summary>
    /// The Azure deployment a path names (<c>/openai/deployments/{name}/…</c>): Azure requests often carry no
    /// <c>model</c>, and deployments are usually named after theirs.
    /// </summary>
    /// <param name="path">The request path.</param>
    /// <returns>The deployment's name, or <see langword="null"/>.</returns>
    internal static string? AzureDeployment(string? path)
    {
        var p = Trim(path);
        var at = p.IndexOf(AzureDeployments, StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }

        var rest = p[(at + AzureDeployments.Length)..];
        var end = rest.IndexOf('/');
        var name = end < 0 ? rest : rest[..end];
        return name.IsEmpty ? null : Uri.UnescapeDataString(name.ToString());
    }

    private static ReadOnlySpan<char> Trim(string? path)
    {
        var p = path.AsSpan();
        var query = p.IndexOfAny('?', '#');
        if (query >= 0)
        {
            p = p[..query];
        }

        return p.TrimEnd('/');
    }
}
