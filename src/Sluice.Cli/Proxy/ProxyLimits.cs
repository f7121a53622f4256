using Sluice.Cli.Run;
using Sluice.Gate;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The one place where an upstream's settings become gate limits, and so where <c>--concurrency auto</c> is decided.
/// Today <c>auto</c> means what it means for <c>sluice run</c>: a cap of <see cref="RunDefaults.AutoConcurrency"/>
/// in flight while the budgets pace the starts. When the gate learns adaptive concurrency
/// (<c>PartitionLimits.AdaptiveConcurrency</c>), <c>auto</c> switches it on here and nowhere else.
/// </summary>
internal static class ProxyLimits
{
    /// <summary>Limits of the upstream's partitions that no model group names.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, int maxQueue) =>
        Build(upstream.RequestsPerMinute, upstream.TokensPerMinute, upstream.Concurrency, maxQueue);

    /// <summary>Limits of one model group: its own budgets, the upstream's where it sets none.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, ModelBudget group, int maxQueue) =>
        Build(
            group.RequestsPerMinute ?? upstream.RequestsPerMinute,
            group.TokensPerMinute ?? upstream.TokensPerMinute,
            group.Concurrency ?? upstream.Concurrency,
            maxQueue);

    /// <summary>True when the concurrency is <c>auto</c>.</summary>
    public static bool IsAuto(int? concurrency) => concurrency is null;

    private static PartitionLimits Build(int? rpm, long? tpm, int? concurrency, int maxQueue) => new()
    {
        MaxConcurrency = concurrency ?? RunDefaults.AutoConcurrency,
        RequestsPerWindow = rpm,
        TokensPerWindow = tpm,
        Window = TimeSpan.FromMinutes(1),
        MaxQueueLength = maxQueue,
    };
}
