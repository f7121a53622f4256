using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>
/// Whether a partition is idle: it could admit a request now without taking anything from a waiter — nobody queued,
/// a concurrency slot free, no pause or stop, and the request and token budgets holding enough for one more. Read from
/// a snapshot, so it may be stale by the time it is used; callers that then take capacity still go through the gate.
/// </summary>
internal static class PartitionRoom
{
    public static bool IsIdle(GatePartition partition, long tokens)
    {
        var snapshot = partition.GetSnapshot();
        return snapshot.StopReason is null
            && snapshot.PausedUntil is null
            && snapshot.Queued == 0
            && snapshot.InFlight < snapshot.ConcurrencyLimit
            && (snapshot.RequestsAvailable is not { } requests || requests >= 1)
            && (snapshot.TokensAvailable is not { } available || available >= tokens);
    }
}
