using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// A gate whose partitions are shared through Redis by every process that uses the same <see cref="RedisGateOptions.KeyPrefix"/>
/// and partition key: concurrency slots, every budget, pauses and stops, and what the provider said. While Redis cannot
/// be reached, each process goes on alone with 1/N of every budget (<see cref="StatusOf"/> says so) and rejoins when it answers.
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
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some limits are invalid.</exception>
    /// <exception cref="ArgumentException">The Redis options are invalid (the message never repeats a password).</exception>
    public static SluiceGate Create(
        RedisGateOptions redis,
        GateOptions? options = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentException.ThrowIfNullOrWhiteSpace(redis.KeyPrefix, nameof(redis.KeyPrefix));
        ArgumentOutOfRangeException.ThrowIfLessThan(redis.LeaseTimeToLive, TimeSpan.FromMilliseconds(30), nameof(redis.LeaseTimeToLive));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(redis.OperationTimeout, TimeSpan.Zero, nameof(redis.OperationTimeout));
        options ??= new GateOptions();
        var time = timeProvider ?? TimeProvider.System;

        // The in-process gate validates the options (every error at once, as SluiceGate.Create reports them).
        SluiceGate.Create(options, time).Dispose();
        return new SharedGate(Copy(redis), options, time, loggerFactory, meterFactory);
    }

    /// <summary>A factory for <see cref="Sluice.Http.SluiceHandlerOptions.GateFactory"/> that makes gates shared through Redis.</summary>
    /// <param name="redis">Where Redis is and how slots expire; copied.</param>
    /// <returns>The factory.</returns>
    public static SluiceGateFactory Factory(RedisGateOptions redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        var copy = Copy(redis);
        return (options, time, loggers, meters) => Create(copy, options, time, loggers, meters);
    }

    /// <summary>
    /// Whether <paramref name="gate"/> shares its budgets through Redis now, how many processes it shares them with,
    /// and since when; for progress lines, status pages and logs.
    /// </summary>
    /// <param name="gate">A gate.</param>
    /// <returns>The status, or null for a gate not made by <see cref="Create"/>.</returns>
    public static RedisGateStatus? StatusOf(SluiceGate gate)
    {
        ArgumentNullException.ThrowIfNull(gate);
        return gate is SharedGate shared ? shared.Status : null;
    }

    private static RedisGateOptions Copy(RedisGateOptions redis) => new()
    {
        Configuration = redis.Configuration,
        KeyPrefix = redis.KeyPrefix,
        LeaseTimeToLive = redis.LeaseTimeToLive,
        OperationTimeout = redis.OperationTimeout,
    };
}
