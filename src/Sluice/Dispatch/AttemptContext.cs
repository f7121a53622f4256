using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>What an attempt is told about itself.</summary>
public sealed class AttemptContext
{
    internal AttemptContext(SluiceJob job, int attempt, GatePartition partition, GateLease lease)
    {
        Job = job;
        Attempt = attempt;
        Partition = partition;
        Lease = lease;
    }

    /// <summary>The job.</summary>
    public SluiceJob Job { get; }

    /// <summary>This try's number, from 1, throttled tries included.</summary>
    public int Attempt { get; }

    /// <summary>The job's partition, for feeding the provider's view back (<see cref="GatePartition.ObserveRequests"/>).</summary>
    public GatePartition Partition { get; }

    /// <summary>The admission this attempt runs under.</summary>
    public GateLease Lease { get; }

    // Written by the try and read by the dispatcher, which may be on other threads once a try is abandoned.
    private volatile bool _leaseTaken;
    private volatile bool _abandoned;

    /// <summary>True once <see cref="TakeLease"/> has been called.</summary>
    internal bool LeaseTaken => _leaseTaken;

    /// <summary>True once the dispatcher stopped waiting for this try (its timeout, a hedge that won, the caller, the deadline).</summary>
    internal bool Abandoned => _abandoned;

    /// <summary>Whether the dispatcher releases the lease: unless the try took it over, and always once it was abandoned.</summary>
    internal bool OwnsLease => !_leaseTaken || _abandoned;

    internal void Abandon() => _abandoned = true;

    /// <summary>
    /// Takes over the lease, for work that outlives the attempt — a streamed answer whose body the caller is still
    /// reading holds its concurrency slot until the body ends. The dispatcher then neither settles nor releases it:
    /// the taker must <see cref="GateLease.Settle(long)"/> (when usage is known) and <see cref="GateLease.Dispose"/> it.
    /// A try the dispatcher stops waiting for (its timeout, a hedge that answered first, the caller, the job's deadline)
    /// has its lease released all the same, taken or not: no slot is held by work the job no longer waits for.
    /// </summary>
    /// <returns>The lease, now the caller's to release.</returns>
    public GateLease TakeLease()
    {
        _leaseTaken = true;
        return Lease;
    }
}
