using System.ComponentModel.DataAnnotations;

namespace Sluice.Gate;

/// <summary>
/// The limits one partition (an upstream, a credential and a model group) is held to. Validated once when a gate
/// is created, then copied: changing an instance afterwards does not affect a gate already using it.
/// </summary>
public sealed class PartitionLimits
{
    /// <summary>The most requests in flight at once.</summary>
    /// <value>Defaults to 32: enough to keep a typical per-minute budget busy with LLM latencies of seconds.</value>
    [Range(1, 1_000_000)]
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>Requests allowed per <see cref="Window"/> (a provider's RPM when the window is a minute).</summary>
    /// <value>Defaults to <see langword="null"/>: no request budget.</value>
    [Range(1, int.MaxValue)]
    public int? RequestsPerWindow { get; set; }

    /// <summary>Tokens allowed per <see cref="Window"/> (a provider's TPM when the window is a minute).</summary>
    /// <value>Defaults to <see langword="null"/>: no token budget.</value>
    [Range(1L, long.MaxValue)]
    public long? TokensPerWindow { get; set; }

    /// <summary>The window the budgets are stated over. Budgets refill continuously, not at window boundaries.</summary>
    /// <value>Defaults to one minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How many requests may start back to back when the request budget is full. In any interval the gate admits
    /// at most this many more requests than the steady rate allows.
    /// </summary>
    /// <value>
    /// Defaults to <see langword="null"/>: one second's worth of the budget, at least 1. Providers enforce per-minute
    /// limits over shorter periods, so a whole minute's burst would be answered with 429s.
    /// </value>
    [Range(1, int.MaxValue)]
    public int? RequestBurst { get; set; }

    /// <summary>How many tokens may be reserved back to back when the token budget is full.</summary>
    /// <value>
    /// Defaults to <see langword="null"/>: one second's worth of the budget, at least 1. A single request estimated
    /// above the burst still starts once the budget is full, and the budget then goes negative until it recovers.
    /// </value>
    [Range(1L, long.MaxValue)]
    public long? TokenBurst { get; set; }

    /// <summary>The most callers that may wait at the partition; further callers are rejected at once.</summary>
    /// <value>Defaults to 10,000.</value>
    [Range(1, int.MaxValue)]
    public int MaxQueueLength { get; set; } = 10_000;

    /// <summary>Returns a copy, so a gate's limits are not changed by later edits to this instance.</summary>
    /// <returns>A new instance with the same values.</returns>
    public PartitionLimits Clone() => (PartitionLimits)MemberwiseClone();

    internal double RequestCapacity => RequestBurst ?? Math.Max(1, PerSecond(RequestsPerWindow ?? 0));

    internal double TokenCapacity => TokenBurst ?? Math.Max(1, PerSecond(TokensPerWindow ?? 0));

    internal double PerSecond(double perWindow) => perWindow / Window.TotalSeconds;
}
