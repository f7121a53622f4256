using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// A gate whose partitions are shared through Redis by every process that uses the same <see cref="RedisGateOptions.KeyPrefix"/>
/// and partition key: concurrency slots, every budget, pauses and stops, and what the provider said.
/// </summary>
public static class RedisGate
{
    /// <summary>Makes a gate that shares its partitions through Redis.</summary>
    /// <param name="redis">Where Redis is and how slots expire.</param>
    /// <param name="options">Partition limits, as for <see cref="SluiceGate.Create"/>.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
    /// <returns>A gate that owns its connection to Redis.</returns>
    public static SluiceGate Create(
        RedisGateOptions redis,
        GateOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        throw new NotImplementedException("The Redis gate is being built (issue 15).");
    }

    /// <summary>A factory for <see cref="Sluice.Http.SluiceHandlerOptions.GateFactory"/> that makes gates shared through Redis.</summary>
    /// <param name="redis">Where Redis is and how slots expire; copied.</param>
    /// <returns>The factory.</returns>
    public static SluiceGateFactory Factory(RedisGateOptions redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var copy = new RedisGateOptions
        {
            Configuration = redis.Configuration,
            KeyPrefix = redis.KeyPrefix,
            LeaseTimeToLive = redis.LeaseTimeToLive,
            OperationTimeout = redis.OperationTimeout,
        };
        return (options, time, loggers, meters) => Create(copy, options, time, loggers, meters);
    }
}
