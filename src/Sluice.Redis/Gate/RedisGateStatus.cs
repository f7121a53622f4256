namespace Sluice.Redis.Gate;

/// <summary>Whether a gate made by <see cref="RedisGate.Create"/> is sharing its partitions through Redis now.</summary>
/// <param name="Shared">True while admissions go through Redis; false while Redis cannot be reached and each partition runs on its local share.</param>
/// <param name="Members">The processes last seen alive on this key prefix (this one included); the local share is 1/<paramref name="Members"/> of each budget.</param>
/// <param name="Since">When the current mode began.</param>
public readonly record struct RedisGateStatus(bool Shared, int Members, DateTimeOffset Since);
