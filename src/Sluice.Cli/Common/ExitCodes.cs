using Microsoft.Data.Sqlite;

namespace Sluice.Cli.Common;

/// <summary>
/// The exit codes every <c>sluice</c> command shares (DESIGN.md fixes them for <c>sluice run</c>): a script can tell
/// "some requests failed" (1) from "fix the command" (2), "run it again" (3) and "Sluice itself failed" (4).
/// </summary>
internal static class ExitCodes
{
    /// <summary>Everything succeeded (<c>sluice proxy</c> and <c>sluice mock</c>: stopped cleanly).</summary>
    public const int Success = 0;

    /// <summary><c>sluice run</c> finished and some requests failed for good.</summary>
    public const int SomeFailed = 1;

    /// <summary>A usage or input error: bad option, unreadable input, invalid lines. Nothing was sent.</summary>
    public const int UsageError = 2;

    /// <summary><c>sluice run</c> stopped early (quota, rejected key, interrupted): run it again to resume.</summary>
    public const int StoppedEarly = 3;

    /// <summary>
    /// Sluice itself failed: a full disk, an unwritable file, the input changed during the run, or a bug. One line
    /// says what; <c>sluice run</c>'s journal keeps every outcome committed, so the same command resumes.
    /// </summary>
    public const int SluiceFailed = 4;

    /// <summary>
    /// One line for an exception nobody expected: its message for the machine's failures (files, disk, the
    /// journal's database), its type too for anything else, which would be a bug. Never a stack trace, and never a
    /// raw control character, since messages can quote paths and provider text.
    /// </summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string message = exception.Message.TrimEnd().TrimEnd('.');
        string line = exception is IOException or UnauthorizedAccessException or SqliteException
            ? message
            : $"{exception.GetType().Name}: {message}";
        return TerminalText.Escape(line);
    }
}
