using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>What an attempt is told about itself.</summary>
/// <param name="Job">The job.</param>
/// <param name="Attempt">This try's number, from 1, throttled tries included.</param>
/// <param name="Partition">The job's partition, for feeding the provider's view back (<see cref="GatePartition.ObserveRequests"/>).</param>
/// <param name="Lease">The admission this attempt runs under.</param>
public sealed record AttemptContext(SluiceJob Job, int Attempt, GatePartition Partition, GateLease Lease);
