using Microsoft.Extensions.Logging;

namespace Sluice.Cache;

/// <summary>The response cache's log messages, with stable event ids. Never a key or a body: only the file and what went wrong.</summary>
internal static partial class CacheLog
{
    [LoggerMessage(600, LogLevel.Warning, "The response cache {Path} cannot be used ({Reason}); going on without it")]
    public static partial void Disabled(ILogger logger, string path, string reason);

    [LoggerMessage(601, LogLevel.Warning, "The response cache {Path} held a damaged entry ({Reason}); it was dropped and the request is sent")]
    public static partial void CorruptEntry(ILogger logger, string path, string reason);

    [LoggerMessage(602, LogLevel.Warning, "The response cache {Path} failed ({Reason}); that lookup or store was skipped")]
    public static partial void Failed(ILogger logger, string path, string reason);
}
