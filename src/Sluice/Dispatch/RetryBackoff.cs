namespace Sluice.Dispatch;

/// <summary>Capped exponential backoff with proportional jitter. Pure: the random draw is passed in.</summary>
internal static class RetryBackoff
{
    /// <summary>
    /// The delay before the retry that follows <paramref name="failures"/> transient failures:
    /// <c>min(max, base·2^(failures−1))</c>, of which the share <paramref name="jitter"/> is scaled by
    /// <paramref name="random01"/> (a draw in [0, 1)). A provider's <paramref name="retryAfter"/> wins,
    /// clamped to [0, <paramref name="max"/>].
    /// </summary>
    public static TimeSpan Delay(int failures, TimeSpan baseDelay, TimeSpan max, double jitter, double random01, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } asked)
        {
            return asked < TimeSpan.Zero ? TimeSpan.Zero : asked > max ? max : asked;
        }

        double exponential = baseDelay.Ticks * Math.Pow(2, Math.Clamp(failures - 1, 0, 62));
        double capped = Math.Min(max.Ticks, exponential);
        return TimeSpan.FromTicks((long)(capped * (1 - (jitter * random01))));
    }

    /// <summary>
    /// The wait before retrying a transient failure: the backoff of <see cref="Delay"/>, or the provider's
    /// <paramref name="retryAfter"/> (clamped to [0, <paramref name="max"/>]) when that is longer. A provider's wait is
    /// a floor, never a reason to retry sooner: a 503 saying <c>Retry-After: 0</c> waits the backoff, so an upstream
    /// cannot make the retries of a job come back to back.
    /// </summary>
    public static TimeSpan TransientDelay(int failures, TimeSpan baseDelay, TimeSpan max, double jitter, double random01, TimeSpan? retryAfter)
    {
        var backoff = Delay(failures, baseDelay, max, jitter, random01);
        if (retryAfter is null)
        {
            return backoff;
        }

        var asked = Delay(failures, baseDelay, max, jitter, random01, retryAfter);
        return asked > backoff ? asked : backoff;
    }
}
