namespace Sluice.Gate;

/// <summary>Why a gate did not admit a caller. A rejection is a value, never an exception.</summary>
public enum GateRejectionReason
{
    /// <summary>Not rejected: the lease was admitted.</summary>
    None = 0,

    /// <summary>The partition's wait queue is full (<see cref="PartitionLimits.MaxQueueLength"/>).</summary>
    QueueFull,

    /// <summary>The partition was stopped (for example quota exhausted or credentials rejected); see the reason text.</summary>
    Stopped,

    /// <summary>An immediate attempt (<see cref="GatePartition.TryAcquire"/>) found no room; see the retry-after hint.</summary>
    Unavailable,
}
