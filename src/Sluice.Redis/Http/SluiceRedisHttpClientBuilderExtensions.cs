using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Http;
using Sluice.Redis.Connection;
using Sluice.Redis.Gate;

namespace Sluice.Redis.Http;

/// <summary>Shares a Sluice client's budgets with every other process on the same Redis.</summary>
public static class SluiceRedisHttpClientBuilderExtensions
{
    /// <summary>
    /// Makes the client's gate (added by <c>AddSluice</c>) one shared through Redis: every process whose client uses the
    /// same Redis, key prefix and partition (upstream, credential, model group) waits at one gate, so N replicas of a
    /// service never overshoot a key's limits N-fold. When Redis cannot be reached, each process goes on with its share
    /// of every budget (1/N, N the processes last seen) and rejoins when Redis is back.
    /// </summary>
    /// <param name="builder">The client's builder, after <c>AddSluice</c>.</param>
    /// <param name="configuration">
    /// Where Redis is: <c>host:port</c>, a StackExchange.Redis configuration string or a <c>redis://</c> URL. It may hold a
    /// password and is never logged.
    /// </param>
    /// <param name="configure">Further settings: the key prefix, how long a dead process's slots live.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="configuration"/> is not a valid address (the message never repeats a password).</exception>
    public static IHttpClientBuilder UseRedis(this IHttpClientBuilder builder, string configuration, Action<RedisGateOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        var redis = new RedisGateOptions { Configuration = configuration };
        configure?.Invoke(redis);
        return Use(builder, redis);
    }

    /// <summary>
    /// <see cref="UseRedis(IHttpClientBuilder, string, Action{RedisGateOptions}?)"/> with its settings bound from
    /// <paramref name="section"/> (conventionally <c>Sluice:Redis</c>: <c>Configuration</c>, <c>KeyPrefix</c>,
    /// <c>LeaseTimeToLive</c>, <c>OperationTimeout</c>).
    /// </summary>
    /// <param name="builder">The client's builder, after <c>AddSluice</c>.</param>
    /// <param name="section">The configuration section.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The section names no valid Redis address.</exception>
    public static IHttpClientBuilder UseRedis(this IHttpClientBuilder builder, IConfiguration section)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var redis = new RedisGateOptions();
        section.Bind(redis);
        return Use(builder, redis);
    }

    private static IHttpClientBuilder Use(IHttpClientBuilder builder, RedisGateOptions redis)
    {
        // A bad address fails here, where the client is configured, not at the first request.
        RedisConnection.Parse(redis.Configuration);
        var factory = RedisGate.Factory(redis);
        builder.Services.Configure<SluiceHandlerOptions>(builder.Name, options => options.GateFactory = factory);
        return builder;
    }
}
