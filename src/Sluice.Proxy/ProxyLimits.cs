using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// The one place where an upstream's settings become gate limits, and so where <c>--concurrency auto</c> is decided.
/// <c>auto</c> means what it means for <c>sluice run</c>: the concurrency limit is learned from the answers
/// (<see cref="PartitionLimits.AdaptiveConcurrency"/>) up to <see cref="AutoConcurrency"/>, while the
/// budgets — configured, or learned from the provider's headers and 429s — pace the starts. A number is a fixed limit.
/// </summary>
internal static class ProxyLimits
{
    /// <summary>The most requests in flight that <c>auto</c> learns its way up to, as for <c>sluice run</c>.</summary>
    public const int AutoConcurrency = 256;

    /// <summary>The longest model name the proxy forwards; real ones are a few dozen characters.</summary>
    public const int MaxModelLength = 128;

    /// <summary>
    /// Whether a request's <c>model</c> is one the proxy forwards: 1 to <see cref="MaxModelLength"/> characters of ASCII
    /// letters, digits and <c>. _ - : / @ +</c> — enough for every provider's names, fine-tunes (<c>ft:gpt-4o:org::id</c>),
    /// deployments, <c>org/model</c> and <c>model:tag</c> — since it names a partition in status, metrics and logs.
    /// </summary>
    public static bool IsValidModel(string model)
    {
        if (model.Length is 0 or > MaxModelLength)
        {
            return false;
        }

        foreach (char c in model)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '-' or ':' or '/' or '@' or '+'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Limits of the upstream's partitions that no model group names.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, int maxQueue) =>
        WithBudgets(upstream, Build(upstream.RequestsPerMinute, upstream.TokensPerMinute, upstream.Concurrency, maxQueue));

    /// <summary>Limits of one model group: its own budgets, the upstream's where it sets none.</summary>
    public static PartitionLimits For(ProxyUpstream upstream, ModelBudget group, int maxQueue) =>
        WithBudgets(upstream, Build(
            group.RequestsPerMinute ?? upstream.RequestsPerMinute,
            group.TokensPerMinute ?? upstream.TokensPerMinute,
            group.Concurrency ?? upstream.Concurrency,
            maxQueue));

    /// <summary>True when the concurrency is <c>auto</c>.</summary>
    public static bool IsAuto(int? concurrency) => concurrency is null;

    private static PartitionLimits Build(int? rpm, long? tpm, int? concurrency, int maxQueue) => new()
    {
        MaxConcurrency = concurrency ?? AutoConcurrency,
        AdaptiveConcurrency = IsAuto(concurrency),
        RequestsPerWindow = rpm,
        TokensPerWindow = tpm,
        Window = TimeSpan.FromMinutes(1),
        MaxQueueLength = maxQueue,
    };

    // Input and output tokens per minute, requests and tokens per day: the upstream's, for every partition of it.
    private static PartitionLimits WithBudgets(ProxyUpstream upstream, PartitionLimits limits)
    {
        limits.InputTokensPerWindow = upstream.InputTokensPerMinute;
        limits.OutputTokensPerWindow = upstream.OutputTokensPerMinute;
        limits.RequestsPerDay = upstream.RequestsPerDay;
        limits.TokensPerDay = upstream.TokensPerDay;
        return limits;
    }
}
