namespace Sluice.Proxy;

/// <summary>
/// Chooses the configured upstream for a request, in this order: a private path prefix (<c>/anthropic/v1/…</c>),
/// then the request's model (an exact name before a pattern), then the longest matching upstream path
/// (<c>/v1/messages</c>), then the default upstream. Only configured upstreams can be chosen: nothing in a request
/// names a host.
/// </summary>
internal sealed class ProxyRouter
{
    private const string ApiRoot = "/v1/";

    private readonly IReadOnlyList<ProxyUpstream> _upstreams;
    private readonly ProxyUpstream? _default;

    public ProxyRouter(IReadOnlyList<ProxyUpstream> upstreams)
    {
        _upstreams = upstreams;
        _default = upstreams.Count == 1 ? upstreams[0] : upstreams.FirstOrDefault(u => u.IsDefault);
    }

    /// <summary>Strips a private prefix: which upstream it names, and the upstream path left (<c>/v1/…</c>).</summary>
    /// <returns>The upstream the prefix names, or null when the path has no configured prefix.</returns>
    public ProxyUpstream? ByPrefix(string path, out string upstreamPath)
    {
        foreach (var upstream in _upstreams)
        {
            if (upstream.Prefix is { } prefix && path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase))
            {
                upstreamPath = path[prefix.Length..];
                return upstream;
            }
        }

        upstreamPath = path;
        return null;
    }

    /// <summary>Whether a path (after any private prefix) is one the proxy forwards: everything under <c>/v1/</c>.</summary>
    public static bool IsApiPath(string upstreamPath) => upstreamPath.StartsWith(ApiRoot, StringComparison.Ordinal);

    /// <summary>The upstream for a request under <c>/v1/</c> without a private prefix.</summary>
    /// <param name="upstreamPath">The path, such as <c>/v1/chat/completions</c>.</param>
    /// <param name="model">The body's <c>model</c>, if it has one.</param>
    /// <returns>The upstream, or null when none is configured for it and there is no default.</returns>
    public ProxyUpstream? Route(string upstreamPath, string? model)
    {
        if (model is not null)
        {
            var exact = _upstreams.FirstOrDefault(u => u.Models.Any(m => !m.Pattern.EndsWith('*') && m.Matches(model)));
            if (exact is not null)
            {
                return exact;
            }

            // The longest pattern wins, so gpt-4o-* can go one way and gpt-* another.
            var byPattern = _upstreams
                .SelectMany(u => u.Models.Where(m => m.Pattern.EndsWith('*') && m.Matches(model)).Select(m => (Upstream: u, m.Pattern.Length)))
                .OrderByDescending(match => match.Length)
                .FirstOrDefault();
            if (byPattern.Upstream is not null)
            {
                return byPattern.Upstream;
            }
        }

        var byPath = _upstreams
            .SelectMany(u => u.Paths.Where(p => upstreamPath.StartsWith(p, StringComparison.OrdinalIgnoreCase)).Select(p => (Upstream: u, p.Length)))
            .OrderByDescending(match => match.Length)
            .FirstOrDefault();
        return byPath.Upstream ?? _default;
    }

    /// <summary>
    /// The model group a request's partition is named after: the upstream's group the model belongs to (a pattern
    /// such as <c>claude-*</c> puts all its models in one partition), else the model itself, else <c>default</c>.
    /// </summary>
    public static string ModelGroup(ProxyUpstream upstream, string? model)
    {
        if (model is null)
        {
            return "default";
        }

        var group = upstream.Models.FirstOrDefault(m => !m.Pattern.EndsWith('*') && m.Matches(model))
            ?? upstream.Models.Where(m => m.Matches(model)).MaxBy(m => m.Pattern.Length);
        return group?.Pattern ?? model;
    }
}
