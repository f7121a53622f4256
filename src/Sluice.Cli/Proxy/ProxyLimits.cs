using Sluice.Cli.Common;
using Sluice.Gate;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The one place where an upstream's settings become gate limits, and so where <c>--concurrency auto</c> is decided.
/// <c>auto</c> means what it means for <c>sluice run</c>: the concurrency limit is learned from the answers
/// (<see cref="PartitionLimits.AdaptiveConcurrency"/>) up to <see cref="CommandDefaults.AutoConcurrency"/>, while the
/// budgets — configured, or learned from the provider's headers and 429s — pace the starts. A number is a fixed limit.
/// </summary>
internal static class ProxyLimits
{
    /// <summary>Limits of the upstream's partitions that no model group names.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, int maxQueue) =>
        upstream.Budgets.ApplyTo(Build(upstream.RequestsPerMinute, upstream.TokensPerMinute, upstream.Concurrency, maxQueue));

    /// <summary>Limits of one model group: its own budgets, the upstream's where it sets none.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, ModelBudget group, int maxQueue) =>
        upstream.Budgets.ApplyTo(Build(
            group.RequestsPerMinute ?? upstream.RequestsPerMinute,
            group.TokensPerMinute ?? upstream.TokensPerMinute,
            group.Concurrency ?? upstream.Concurrency,
            maxQueue));

    /// <summary>True when the concurrency is <c>auto</c>.</summary>
    public static bool IsAuto(int? concurrency) => concurrency is null;

    private static PartitionLimits Build(int? rpm, long? tpm, int? concurrency, int maxQueue) => new()
    {
        MaxConcurrency = concurrency ?? CommandDefaults.AutoConcurrency,
        AdaptiveConcurrency = IsAuto(concurrency),
        RequestsPerWindow = rpm,
        TokensPerWindow = tpm,
        Window = TimeSpan.FromMinutes(1),
        MaxQueueLength = maxQueue,
    };
}
