namespace Sluice.Cli.Run;

/// <summary>One valid line of a batch file: where it was, its id, where it goes and what it sends.</summary>
internal sealed record RequestLine(int LineNumber, string CustomId, string Url, byte[] Body);

/// <summary>Why one line of a batch file cannot be run.</summary>
internal sealed record LineProblem(int LineNumber, string Reason);
