namespace Sluice.Cli.Run;

/// <summary>One valid line of a batch file: where it was, its id, where it goes and what it sends.</summary>
internal sealed record RequestLine(int LineNumber, string CustomId, string Url, byte[] Body);

/// <summary>Why one line of a batch file cannot be run.</summary>
internal sealed record LineProblem(int LineNumber, string Reason);

/// <summary>A file's size and last write time, to notice that it was written to.</summary>
internal readonly record struct FileStamp(long Length, DateTime LastWriteUtc)
{
    public static FileStamp Of(string path)
    {
        var info = new FileInfo(path);
        return new FileStamp(info.Length, info.LastWriteTimeUtc);
    }
}

/// <summary>The batch file changed after it was validated: what is sent would not be what was checked.</summary>
internal sealed class InputChangedException(string path, int? lineNumber)
    : IOException(lineNumber is { } line
        ? $"{path} changed while it was being sent (noticed at line {line}); the journal keeps what was done"
        : $"{path} changed while it was being sent; the journal keeps what was done");
