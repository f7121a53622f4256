using System.ComponentModel.DataAnnotations;

namespace Sluice.Dispatch;

/// <summary>
/// How the dispatcher retries, times out and paces retries. Validated once when a dispatcher is created, then
/// copied. Defaults are sized for LLM calls, whose answers take seconds to minutes.
/// </summary>
public sealed class DispatcherOptions
{
    /// <summary>Attempts a job may use, the first included. Throttled tries do not count.</summary>
    /// <value>Defaults to 5.</value>
    [Range(1, 1000)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first backoff after a transient failure; each further failure doubles it.</summary>
    /// <value>Defaults to 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan BaseRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff, and the longest Retry-After honoured for a transient failure.</summary>
    /// <value>Defaults to 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// The share of each backoff that is random: 0.5 spreads a 4 s backoff over 2–4 s, so retries after a shared
    /// failure do not arrive together.
    /// </summary>
    /// <value>Defaults to 0.5.</value>
    [Range(0.0, 1.0)]
    public double RetryJitter { get; set; } = 0.5;

    /// <summary>
    /// The longest pause a provider's Retry-After may impose on a partition. A longer one (a daily limit, say) parks
    /// the partition instead: the job that met it ends <see cref="JobEndReason.Parked"/>, the partition is stopped
    /// with the reason, and its other jobs end <see cref="JobEndReason.PartitionStopped"/>, pending for a later run.
    /// </summary>
    /// <value>Defaults to 1 hour.</value>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MaxThrottlePause { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Extra random pause after a throttle, as a share of the pause (up to 1 second), so several clients do not resume together.</summary>
    /// <value>Defaults to 0.1.</value>
    [Range(0.0, 1.0)]
    public double ThrottleJitter { get; set; } = 0.1;

    /// <summary>How long one attempt may take before it is abandoned as a transient failure.</summary>
    /// <value>Defaults to 10 minutes: long generations are slow. <see langword="null"/> for no limit.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? AttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a job may take in all, waits and retries included; then it fails with <see cref="JobEndReason.DeadlineExceeded"/>.</summary>
    /// <value>Defaults to <see langword="null"/>: no deadline; a job waits out throttling as long as it lasts.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "3650.00:00:00")]
    public TimeSpan? JobDeadline { get; set; }

    /// <summary>
    /// Retries allowed per first attempt, per partition: 0.2 lets retries add at most 20% to the load (plus
    /// <see cref="MinRetriesPerSecond"/>), so a failing provider is not hit by a multiplying storm. A retry that
    /// finds the budget empty waits for it; it does not fail.
    /// </summary>
    /// <value>Defaults to 0.2.</value>
    [Range(0.0, 100.0)]
    public double RetryBudgetRatio { get; set; } = 0.2;

    /// <summary>Retries allowed per second per partition whatever the first-attempt traffic, so retries never starve.</summary>
    /// <value>Defaults to 1.</value>
    [Range(0.001, 1_000_000.0)]
    public double MinRetriesPerSecond { get; set; } = 1;

    /// <summary>The most retries that may go out back to back when the retry budget is full.</summary>
    /// <value>Defaults to 10.</value>
    [Range(1, 1_000_000)]
    public int RetryBudgetBurst { get; set; } = 10;

    /// <summary>Returns a copy.</summary>
    /// <returns>A new instance with the same values.</returns>
    public DispatcherOptions Clone() => (DispatcherOptions)MemberwiseClone();
}
