using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// One upstream the proxy forwards to: where it is, how its answers are read, whose key it uses, its budgets, and
/// which requests are routed to it. The upstream only ever comes from here — configuration — never from a request.
/// </summary>
public sealed record ProxyUpstream
{
    /// <summary>The upstream's name in configuration, status and metrics (<c>default</c> for <c>--upstream</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The upstream's base URL; with or without <c>/v1</c>, as <see cref="BaseUrl.Join"/> accepts.</summary>
    public required Uri Url { get; init; }

    /// <summary>Whose conventions the upstream follows: errors, headers, credentials.</summary>
    public ProviderKind Provider { get; init; } = ProviderKind.OpenAI;

    /// <summary>The variable the key was read from, for messages; null when clients bring their own keys.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>The key the proxy holds for this upstream; never logged, never shown. Null: clients' keys pass through.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The request budget per minute of each partition; null to learn it from headers and 429s.</summary>
    public int? RequestsPerMinute { get; init; }

    /// <summary>The token budget per minute of each partition (prompt estimate plus output cap, settled with usage).</summary>
    public long? TokensPerMinute { get; init; }

    /// <summary>The input-token budget per minute of each partition.</summary>
    public long? InputTokensPerMinute { get; init; }

    /// <summary>The output-token budget per minute of each partition.</summary>
    public long? OutputTokensPerMinute { get; init; }

    /// <summary>The request budget per day of each partition.</summary>
    public int? RequestsPerDay { get; init; }

    /// <summary>The token budget per day of each partition.</summary>
    public long? TokensPerDay { get; init; }

    /// <summary>Requests in flight at most; null for <c>auto</c> (see <see cref="ProxyLimits"/>).</summary>
    public int? Concurrency { get; init; }

    /// <summary>
    /// The most this upstream may spend per UTC day, in USD, over every client: each try reserves its worst case (prompt
    /// estimate plus output cap, priced) before it is sent and settles to its real cost. A request that would pass it is
    /// answered 402 <c>spend_cap_reached</c> without being sent. Null: no cap.
    /// </summary>
    public decimal? MaxSpendPerDay { get; init; }

    /// <summary>
    /// The most one client may spend at this upstream per UTC day, in USD. A client is the credential it presented (the
    /// proxy's key or its own), known only by a fingerprint; the proxy tracks at most
    /// <see cref="SluiceProxyOptions.MaxPartitions"/> clients per upstream, the least recently seen forgotten first.
    /// Null: no cap per client.
    /// </summary>
    public decimal? MaxSpendPerClientPerDay { get; init; }

    /// <summary>
    /// Answers this upstream's deterministic requests (temperature 0, one choice) from the proxy's response cache, and
    /// stores their answers there; needs <c>SluiceProxyOptions.Cache</c>. A request opts out with
    /// <c>x-sluice-cache: off</c>, and into the cache of an upstream without this setting with <c>x-sluice-cache: use</c>.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>: only requests that ask use the cache.</value>
    public bool Cache { get; init; }

    /// <summary>
    /// Caches this upstream's answers whatever the request's temperature: for models whose answers the user accepts as
    /// repeatable, or for tests. Otherwise only requests with temperature 0 and one choice are cached.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool CacheAnyTemperature { get; init; }

    /// <summary>
    /// Model groups with budgets of their own, and the models routed here: an exact name, or a pattern ending in
    /// <c>*</c> (<c>claude-*</c>) whose models share one partition.
    /// </summary>
    public IReadOnlyList<ModelBudget> Models { get; init; } = [];

    /// <summary>
    /// A private path prefix such as <c>/anthropic</c>: <c>/anthropic/v1/messages</c> goes here as <c>/v1/messages</c>,
    /// so a client picks this upstream by its base URL (<c>http://127.0.0.1:8787/anthropic/v1</c>).
    /// </summary>
    public string? Prefix { get; init; }

    /// <summary>Upstream paths routed here when no prefix or model decides, such as <c>/v1/messages</c>.</summary>
    public IReadOnlyList<string> Paths { get; init; } = [];

    /// <summary>Takes every request no prefix, model or path routes elsewhere.</summary>
    public bool IsDefault { get; init; }

    /// <summary>Name, URL without query and provider: never the key.</summary>
    /// <returns>A description for logs.</returns>
    public override string ToString() => $"{Name} ({Url.GetLeftPart(UriPartial.Path)}, {Provider})";
}

/// <summary>A model name or pattern (<c>claude-*</c>) with budgets of its own; unset budgets are the upstream's.</summary>
/// <param name="Pattern">An exact model name, or a prefix followed by <c>*</c>.</param>
/// <param name="RequestsPerMinute">The group's request budget.</param>
/// <param name="TokensPerMinute">The group's token budget.</param>
/// <param name="Concurrency">The group's concurrency; null for the upstream's.</param>
public sealed record ModelBudget(string Pattern, int? RequestsPerMinute = null, long? TokensPerMinute = null, int? Concurrency = null)
{
    /// <summary>Whether <paramref name="model"/> belongs to this group.</summary>
    internal bool Matches(string model) =>
        Pattern.EndsWith('*')
            ? model.StartsWith(Pattern[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(model, Pattern, StringComparison.OrdinalIgnoreCase);
}
