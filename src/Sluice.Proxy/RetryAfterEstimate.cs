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
    public static TimeSpan For(PartitionSnapshot snapshot, PartitionLimits limits, DateTimeOffset now, string? tenant = null)
    {
        var wait = ExpectedWait(snapshot, limits, now, tenant);
        return wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;
    }

    /// <summary>
    /// How long one more request would wait, by what the partition knows now; a lower bound (concurrency and tokens
    /// of the requests ahead can make it longer), so a request turned away on it would certainly have waited longer.
    /// With tenants, the queue ahead is the request's own tenant's (<paramref name="tenant"/>, or the gate's default
    /// tenant): fair queuing and priorities serve other tenants' backlogs beside it, not before it, so their length
    /// says nothing certain about its wait — an interactive tenant is not turned away for a batch tenant's backlog.
    /// </summary>
    public static TimeSpan ExpectedWait(PartitionSnapshot snapshot, PartitionLimits limits, DateTimeOffset now, string? tenant = null)
    {
        var wait = TimeSpan.Zero;
        if (snapshot.PausedUntil is { } pausedUntil && pausedUntil > now)
        {
            wait = pausedUntil - now;
        }

        if (limits.RequestsPerWindow is int rpm)
        {
            double perSecond = rpm / limits.Window.TotalSeconds;
            double ahead = QueuedAhead(snapshot, tenant) + 1 - Math.Max(0, snapshot.RequestsAvailable ?? 0);
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

    /// <summary>The name the gate gives requests of no tenant (<c>GateTenant</c>'s default).</summary>
    internal const string DefaultTenant = "default";

    // The tenant's own waiters when the gate reports tenants (the in-process gate does), else the whole queue.
    private static int QueuedAhead(PartitionSnapshot snapshot, string? tenant)
    {
        if (snapshot.Tenants.Count == 0)
        {
            return snapshot.Queued;
        }

        string name = tenant ?? DefaultTenant;
        foreach (var known in snapshot.Tenants)
        {
            if (string.Equals(known.Name, name, StringComparison.Ordinal))
            {
                return known.Waiting;
            }
        }

        return 0;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
