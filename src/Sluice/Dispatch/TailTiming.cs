namespace Sluice.Dispatch;

/// <summary>
/// How long a try may run, and when a slow one is worth a second try, from the partition's recent latencies. Pure:
/// the options and the quantile are passed in. These govern the tail of a batch, where the last failures would
/// otherwise wait out a long timeout or backoff while the budget idles.
/// </summary>
internal static class TailTiming
{
    /// <summary>The quantile of good answers' latency past which a try is slow.</summary>
    public const double SlowQuantile = 0.99;

    /// <summary>A learned timeout is this many times the slow quantile: generous, since a timeout costs a whole try.</summary>
    public const double TimeoutFactor = 4;

    /// <summary>The share of the backoff a retry waits when nobody else is waiting at its partition.</summary>
    public const double IdleBackoffShare = 0.1;

    /// <summary>
    /// The timeout for a try: the configured one, or a learned one under it once the partition's latencies are known,
    /// unless this job has already had a try cut by a learned timeout (it may simply be a long one).
    /// </summary>
    public static (TimeSpan? Limit, bool Learned) Timeout(DispatcherOptions options, TimeSpan? slowQuantile, bool cutBefore)
    {
        var configured = options.AttemptTimeout;
        if (!options.LearnAttemptTimeout || cutBefore || slowQuantile is not { } slow)
        {
            return (configured, false);
        }

        var learned = TimeSpan.FromTicks((long)Math.Min(TimeSpan.MaxValue.Ticks / 2.0, slow.Ticks * TimeoutFactor));
        if (learned < options.MinLearnedAttemptTimeout)
        {
            learned = options.MinLearnedAttemptTimeout;
        }

        return configured is { } ceiling && learned >= ceiling ? (configured, false) : (learned, true);
    }

    /// <summary>
    /// How long a try runs before a second one may start beside it; null when hedging is off, the latencies are not
    /// known yet, or the job has no attempt to spare for it.
    /// </summary>
    public static TimeSpan? HedgeDelay(DispatcherOptions options, TimeSpan? slowQuantile, int attemptsUsed, TimeSpan? timeout) =>
        options.HedgeSlowAttempts && attemptsUsed + 2 <= options.MaxAttempts && slowQuantile is { } slow && (timeout is null || slow < timeout)
            ? slow
            : null;

    /// <summary>
    /// How many times a waiting retry, or a slow try, looks for an idle partition: bounded, so a tail shortcut is a
    /// handful of cheap snapshots per try, never a poll.
    /// </summary>
    public const int TailChecks = 4;

    /// <summary>The wait before a retry: the backoff, or a share of it when the partition is idle and the failure is no sign of overload.</summary>
    public static TimeSpan RetryDelay(DispatcherOptions options, TimeSpan backoff, bool idle, bool overloaded, bool timedOut, TimeSpan? retryAfter) =>
        options.ShortenIdleBackoff && idle && retryAfter is null && (!overloaded || timedOut)
            ? TimeSpan.FromTicks((long)(backoff.Ticks * IdleBackoffShare))
            : backoff;
}
