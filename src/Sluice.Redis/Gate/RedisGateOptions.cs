namespace Sluice.Redis.Gate;

/// <summary>How a gate shares its partitions through Redis.</summary>
public sealed class RedisGateOptions
{
    /// <summary>
    /// Where Redis is: a StackExchange.Redis configuration string (<c>host:port,password=…,ssl=true</c>) or a
    /// <c>redis://</c> / <c>rediss://</c> URL. It may hold a password, so it is never logged or shown; see
    /// <see cref="Connection.RedisConnection.Describe"/>.
    /// </summary>
    public string Configuration { get; set; } = "";

    /// <summary>
    /// The prefix of every key the gate writes, so several unrelated deployments can share one Redis. Processes share a
    /// budget when they use the same prefix and the same partition key.
    /// </summary>
    /// <value>Defaults to <c>sluice</c>.</value>
    public string KeyPrefix { get; set; } = "sluice";

    /// <summary>
    /// How long a concurrency slot outlives the process holding it: the holder renews its slots well within this,
    /// so a process that dies (SIGKILL, a lost machine) frees its slots by itself this long after its last renewal.
    /// </summary>
    /// <value>Defaults to 30 seconds.</value>
    public TimeSpan LeaseTimeToLive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long each Redis call may take before the gate counts Redis as unreachable and goes on with a local share
    /// (1/N of each budget, N the processes last seen alive) until Redis answers again.
    /// </summary>
    /// <value>Defaults to 2 seconds.</value>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
