using Microsoft.Extensions.Logging;

namespace Sluice.Redis.Gate;

/// <summary>The Redis gate's log messages, with stable event ids. Never the configuration string: it may hold a password.</summary>
internal static partial class RedisGateLog
{
    [LoggerMessage(400, LogLevel.Warning, "Redis at {Redis} cannot be reached ({Error}): each partition goes on alone with 1/{Members} of every budget until it answers again")]
    public static partial void WentLocal(ILogger logger, string redis, string error, int members);

    [LoggerMessage(401, LogLevel.Information, "Redis at {Redis} answers again: partitions share their budgets through it ({Members} processes on this prefix)")]
    public static partial void Rejoined(ILogger logger, string redis, int members);

    [LoggerMessage(402, LogLevel.Information, "Redis gate started on {Redis}, prefix {Prefix}: {Members} processes share it")]
    public static partial void Started(ILogger logger, string redis, string prefix, int members);

    [LoggerMessage(404, LogLevel.Warning, "Redis gate could not rejoin Redis at {Redis}: {Error}")]
    public static partial void RejoinFailed(ILogger logger, string redis, string error);
}
