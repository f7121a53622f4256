namespace Sluice.Cli.Common;

/// <summary>Defaults <c>sluice run</c> and <c>sluice proxy</c> share, stated once for help and behaviour.</summary>
internal static class CommandDefaults
{
    /// <summary>Tries per request for transient failures (5xx, resets, timeouts); 429s do not count.</summary>
    public const int MaxAttempts = 5;

    /// <summary>How long one try may take before it is abandoned and retried.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    /// <summary><c>--concurrency auto</c>: the ceiling of the learned concurrency limit.</summary>
    public const int AutoConcurrency = 256;
}
