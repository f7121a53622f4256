using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// What a shared partition remembers of a lease it made: the Redis slot it holds, or the in-process lease it wraps
/// when it was admitted on the local share. Kept beside the lease (a weak table), so settling after release works and
/// nothing outlives the lease.
/// </summary>
internal sealed class LeaseRecord
{
    /// <summary>The slot in Redis: the admission's own, or the stand-in registered for a local lease on rejoining.</summary>
    public string? SlotId { get; set; }

    /// <summary>The in-process lease, when admitted on the local share; released and settled there.</summary>
    public GateLease? Local { get; init; }

    /// <summary>The minute bucket of the per-day token budget the admission was counted in; -1 for none.</summary>
    public long DayBucket { get; init; } = -1;

    /// <summary>When it was admitted, in the gate clock's Unix milliseconds.</summary>
    public long AdmittedMs { get; init; }

    /// <summary>The local episode that admitted it (null for Redis).</summary>
    public LocalEpisode? Episode { get; init; }
}
