using System.ComponentModel.DataAnnotations;

namespace Sluice.Gate;

/// <summary>
/// The limits one partition (an upstream, a credential and a model group) is held to. Validated once when a gate
/// is created, then copied: changing an instance afterwards does not affect a gate already using it.
/// </summary>
public sealed class PartitionLimits
{
    /// <summary>
    /// The most requests in flight at once; with <see cref="AdaptiveConcurrency"/>, the ceiling of the learned limit, which
    /// a binding budget may raise to what it needs (rate × latency × 1.5).
    /// </summary>
    /// <value>Defaults to 32: enough to keep a typical per-minute budget busy with LLM latencies of seconds.</value>
    [Range(1, 1_000_000)]
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>
    /// Learns the concurrency limit instead of holding it at <see cref="MaxConcurrency"/>: it starts at 8, grows while
    /// answers succeed and is cut on 503, 504, timeouts, and on 429 and 529 where no request rate is known (additive
    /// increase, multiplicative decrease); where a request or token budget binds, it is raised to what the budget
    /// needs by Little's law (see docs/adaptive.md). Needs outcomes reported, which <c>SluiceDispatcher</c> and <c>SluiceHandler</c> do; a
    /// partition used only through <see cref="GatePartition.AcquireAsync"/> would stay at its starting limit.
    /// </summary>
    /// <value>Defaults to <see langword="false"/>. <c>SluiceHandler</c>, <c>sluice run</c> and <c>sluice proxy</c> turn it on unless told a number.</value>
    public bool AdaptiveConcurrency { get; set; }

    /// <summary>
    /// Learns budgets from the provider: the request and token budgets its rate-limit headers state
    /// (<c>x-ratelimit-limit-*</c>, <c>anthropic-ratelimit-*-limit</c>, taken as per minute) are adopted unless
    /// <see cref="RequestsPerWindow"/> or <see cref="TokensPerWindow"/> is lower; and where neither headers nor a
    /// configured budget say anything, a request rate is learned from the spacing of 429s.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool LearnBudgets { get; set; } = true;

    /// <summary>Requests allowed per <see cref="Window"/> (a provider's RPM when the window is a minute).</summary>
    /// <value>Defaults to <see langword="null"/>: no request budget.</value>
    [Range(1, int.MaxValue)]
    public int? RequestsPerWindow { get; set; }

    /// <summary>Tokens allowed per <see cref="Window"/> (a provider's TPM when the window is a minute).</summary>
    /// <value>Defaults to <see langword="null"/>: no token budget.</value>
    [Range(1L, long.MaxValue)]
    public long? TokensPerWindow { get; set; }

    /// <summary>
    /// Input (prompt) tokens allowed per <see cref="Window"/>, reserved at each request's prompt estimate and settled
    /// with the input tokens its answer reports (Anthropic's input tokens per minute).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no input-token budget, unless the provider's headers state one.</value>
    [Range(1L, long.MaxValue)]
    public long? InputTokensPerWindow { get; set; }

    /// <summary>
    /// Output tokens allowed per <see cref="Window"/>, reserved at each request's output cap (<c>max_tokens</c>) and
    /// settled with the output tokens its answer reports (Anthropic's output tokens per minute).
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no output-token budget, unless the provider's headers state one.</value>
    [Range(1L, long.MaxValue)]
    public long? OutputTokensPerWindow { get; set; }

    /// <summary>
    /// Requests allowed in any one day (a provider's RPD). Kept as a sliding day: the first requests start at once,
    /// and no 24 hours ever hold more than this many.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no per-day request budget.</value>
    [Range(1, int.MaxValue)]
    public int? RequestsPerDay { get; set; }

    /// <summary>Tokens (prompt estimate plus output cap, settled with usage) allowed in any one day (a provider's TPD).</summary>
    /// <value>Defaults to <see langword="null"/>: no per-day token budget.</value>
    [Range(1L, long.MaxValue)]
    public long? TokensPerDay { get; set; }

    /// <summary>
    /// The window the per-window budgets (requests, tokens, input and output tokens) are stated over. They refill
    /// continuously, not at window boundaries.
    /// </summary>
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

    /// <summary>
    /// Admits one request alone until the provider's headers (or, without them, its answer) arrive, while they are
    /// the only source of the budgets. Set by the faces for providers whose requests dwarf the short-interval bursts
    /// they enforce (Anthropic's output caps against a second's worth of its output tokens per minute), where a cold
    /// burst would be refused before the budgets are known.
    /// </summary>
    internal bool AwaitFirstHeaders { get; set; }

    /// <summary>Returns a copy, so a gate's limits are not changed by later edits to this instance.</summary>
    /// <returns>A new instance with the same values.</returns>
    public PartitionLimits Clone() => (PartitionLimits)MemberwiseClone();

    /// <summary>The window of <see cref="RequestsPerDay"/> and <see cref="TokensPerDay"/>.</summary>
    internal static readonly TimeSpan Day = TimeSpan.FromDays(1);

    /// <summary>The request bucket's size at a rate of <paramref name="perSecond"/>: the burst, or one second's worth.</summary>
    internal double RequestCapacityAt(double perSecond) => RequestBurst ?? Math.Max(1, perSecond);

    /// <summary>The token bucket's size at a rate of <paramref name="perSecond"/>: the burst, or one second's worth.</summary>
    internal double TokenCapacityAt(double perSecond) => TokenBurst ?? Math.Max(1, perSecond);

    internal double PerSecond(double perWindow) => perWindow / Window.TotalSeconds;
}
