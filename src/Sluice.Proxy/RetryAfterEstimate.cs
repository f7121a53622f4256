using Sluice.Gate;

namespace Sluice.Proxy;

/// <summary>
/// An honest Retry-After for a client turned away: when its partition will plausibly have room. A pause lasts until
/// it ends; otherwise the queue ahead drains at the request budget's rate (and a token deficit refills at its
/// budget's rate). Without budgets to go by, one second.
/// </summary>
internal static class RetryAfterEstimate
{
    /// <summary>The Retry-After to send: <see cref="ExpectedWait"/>, at least one second.</summary>
    public static TimeSpan For(PartitionSnapshot snapshot, PartitionLimits limits, DateTimeOffset now)
    {
        var wait = ExpectedWait(snapshot, limits, now);
        return wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;
    }

    /// <summary>
    /// How long one more request would wait, by what the partition knows now; a lower bound (concurrency and tokens
    /// of the requests ahead can make it longer), so a request turned away on it would certainly have waited longer.
    /// </summary>
    public static TimeSpan ExpectedWait(PartitionSnapshot snapshot, PartitionLimits limits, DateTimeOffset now)
    {
        var wait = TimeSpan.Zero;
        if (snapshot.PausedUntil is { } pausedUntil && pausedUntil > now)
        {
            wait = pausedUntil - now;
        }

        if (limits.RequestsPerWindow is int rpm)
        {
            double perSecond = rpm / limits.Window.TotalSeconds;
            double ahead = snapshot.Queued + 1 - Math.Max(0, snapshot.RequestsAvailable ?? 0);
            wait = Max(wait, TimeSpan.FromSeconds(Math.Max(0, ahead) / perSecond));
        }

        // A token budget in debt (tokens, input, output, per day) admits nothing until refill repays it.
        foreach (var budget in snapshot.Budgets)
        {
            if (budget.Dimension != BudgetDimension.Requests && budget.Available < 0 && budget.Limit > 0)
            {
                wait = Max(wait, TimeSpan.FromSeconds(-budget.Available / (budget.Limit / budget.Window.TotalSeconds)));
            }
        }

        return wait;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
