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

    /// <summary>
    /// Cut a try short when it has run far longer than the partition's good answers take: four times the 99th
    /// percentile of its recent successful tries, never under <see cref="MinLearnedAttemptTimeout"/> and never over
    /// <see cref="AttemptTimeout"/>, once 20 answers are known. A job whose try was cut so gets the full
    /// <see cref="AttemptTimeout"/> on its later tries, so a request that is merely slow (a long generation) still
    /// completes.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool LearnAttemptTimeout { get; set; } = true;

    /// <summary>The shortest timeout <see cref="LearnAttemptTimeout"/> may set.</summary>
    /// <value>Defaults to 2 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan MinLearnedAttemptTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Start a second try of a job whose try has run past the 99th percentile of the partition's recent good answers,
    /// when the partition could admit it now without making anyone wait (nobody queued, a slot and budget free) and the
    /// retry budget has a retry to spare. The first answer wins and the other try is cancelled; both count as attempts
    /// and both are charged to the budgets. Only capacity that would otherwise idle is used, so it shortens the tail of a
    /// batch (a hung request near the end) without slowing anything down; it may pay for a generation twice.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool HedgeSlowAttempts { get; set; } = true;

    /// <summary>
    /// After a transient failure that is not an overload (a 500, a reset connection, a malformed body, a try cut by
    /// the timeout), retry after a tenth of the backoff when the partition is idle: nobody queued and a slot and
    /// budget free. The backoff spares an upstream that struggles under load; with nobody else waiting there is no
    /// load to spare it from, and the retry budget still bounds the retries. A Retry-After, a 503 or a 504 always gets
    /// the full backoff.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>.</value>
    public bool ShortenIdleBackoff { get; set; } = true;

    /// <summary>Returns a copy.</summary>
    /// <returns>A new instance with the same values.</returns>
    public DispatcherOptions Clone() => (DispatcherOptions)MemberwiseClone();
}
