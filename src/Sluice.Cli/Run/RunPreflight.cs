using System.Net.Sockets;

namespace Sluice.Cli.Run;

/// <summary>
/// The checks <c>sluice run</c> makes before it sends anything, each giving one clear sentence: the input can be
/// read, the outputs can be written, the provider's host accepts connections.
/// </summary>
internal static class RunPreflight
{
    public static string? Unreadable(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                return "it is a directory";
            }

            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            return null;
        }
        catch (FileNotFoundException)
        {
            return "no such file";
        }
        catch (DirectoryNotFoundException)
        {
            return "no such directory";
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return exception.Message;
        }
    }

    /// <summary>
    /// Two of the files a run reads or writes that are one file, or null. Besides the input, results, errors and
    /// journal, the outputs' temporary files (<c>RESULTS.tmp</c>, renamed over the output at the end) and SQLite's
    /// files beside the journal count: <c>sluice run X.tmp -o X</c> would otherwise replace its own input. Paths are
    /// compared whole (and without case where the file system ignores it), with a symbolic link read as its target.
    /// </summary>
    public static string? Collision(string input, string results, string errors, string journal, string? cache = null)
    {
        (string What, string Path)[] cacheFiles = cache is null
            ? []
            : [("the response cache", cache), ("the cache's write-ahead log", cache + "-wal"), ("the cache's shared memory", cache + "-shm"), ("the cache's rollback journal", cache + "-journal")];
        (string What, string Path)[] files =
        [
            ("the input", input),
            ("the results", results),
            ("the errors file", errors),
            ("the journal", journal),
            ("the results' temporary file", RunJournal.TemporaryPath(results)),
            ("the errors' temporary file", RunJournal.TemporaryPath(errors)),
            .. RunJournal.Companions(journal),
            .. cacheFiles,
        ];
        var seen = new Dictionary<string, string>(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        foreach (var (what, path) in files)
        {
            string canonical = Canonical(path);
            if (seen.TryGetValue(canonical, out string? other))
            {
                return $"{other} and {what} would be the same file, {path}: the input, results, errors and journal must be four different files (and the response cache a fifth), " +
                    "and none may be another's temporary file (.tmp) or the journal's -wal, -shm or -journal file";
            }

            seen.Add(canonical, what);
        }

        return null;
    }

    // The full path, through a symbolic link at its end (a link to the input is the input).
    private static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target ? Path.GetFullPath(target.FullName) : full;
        }
        catch (IOException)
        {
            // A link cycle: compared as written.
            return full;
        }
    }

    // Writes and deletes a probe file beside the target: the check leaves nothing behind.
    // The journal is opened (and locked) by the journal itself, which says when another run holds it.
    public static string? Unwritable(string path, bool openExisting)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
        {
            return $"the directory {directory} does not exist";
        }

        if (Directory.Exists(path))
        {
            return "it is a directory";
        }

        string probe = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write))
            {
            }

            File.Delete(probe);
            if (openExisting && File.Exists(path))
            {
                using var existing = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            }

            return null;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return exception.Message;
        }
    }

    public static async Task<string?> UnreachableAsync(Uri baseUrl, TimeProvider time, CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, cancellationToken);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(baseUrl.Host, baseUrl.Port, linked.Token).ConfigureAwait(false);
            return null;
        }
        catch (SocketException exception)
        {
            return exception.Message;
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            return "no connection within 10 s";
        }
    }
}
