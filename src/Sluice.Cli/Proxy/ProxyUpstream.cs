using Sluice.Cli.Common;
using Sluice.Providers;

namespace Sluice.Cli.Proxy;

/// <summary>
/// One upstream the proxy forwards to, resolved and checked: where it is, how its answers are read, whose key it
/// uses, its budgets, and which requests are routed to it. The upstream only ever comes from here — never from a
/// request.
/// </summary>
internal sealed record ProxyUpstream
{
    /// <summary>The upstream's name in configuration, status and metrics (<c>default</c> for <c>--upstream</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The upstream's base URL; with or without <c>/v1</c>, as <see cref="BaseUrl.Join"/> accepts.</summary>
    public required Uri Url { get; init; }

    public ProviderKind Provider { get; init; } = ProviderKind.OpenAI;

    /// <summary>The variable the key was read from, for messages; null when clients bring their own keys.</summary>
    public string? ApiKeyEnv { get; init; }

    /// <summary>The key the proxy holds for this upstream; never logged, never shown. Null: clients' keys pass through.</summary>
    public string? ApiKey { get; init; }

    public int? RequestsPerMinute { get; init; }

    public long? TokensPerMinute { get; init; }

    /// <summary>Input and output tokens per minute, requests and tokens per day, for every partition of the upstream.</summary>
    public ExtraBudgets Budgets { get; init; } = ExtraBudgets.None;

    /// <summary>Requests in flight at most; null for <c>auto</c> (see <see cref="ProxyLimits"/>).</summary>
    public int? Concurrency { get; init; }

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

    // The key must not reach a log through a record's generated ToString.
    public override string ToString() => $"{Name} ({Url.GetLeftPart(UriPartial.Path)}, {Provider})";
}

/// <summary>A model name or pattern (<c>claude-*</c>) with budgets of its own; unset budgets are the upstream's.</summary>
/// <param name="Pattern">An exact model name, or a prefix followed by <c>*</c>.</param>
/// <param name="RequestsPerMinute">The group's request budget.</param>
/// <param name="TokensPerMinute">The group's token budget.</param>
/// <param name="Concurrency">The group's concurrency; null for the upstream's.</param>
internal sealed record ModelBudget(string Pattern, int? RequestsPerMinute = null, long? TokensPerMinute = null, int? Concurrency = null)
{
    /// <summary>Whether <paramref name="model"/> belongs to this group.</summary>
    public bool Matches(string model) =>
        Pattern.EndsWith('*')
            ? model.StartsWith(Pattern[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(model, Pattern, StringComparison.OrdinalIgnoreCase);
}
