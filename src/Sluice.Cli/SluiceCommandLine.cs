using System.CommandLine;
using Sluice.Cli.Mock;

namespace Sluice.Cli;

/// <summary>Builds the <c>sluice</c> command tree. Each subcommand lives in its own folder and registers here.</summary>
internal static class SluiceCommandLine
{
    /// <summary>Exit code for a usage or input error, as the run contract in DESIGN.md fixes it.</summary>
    public const int UsageError = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Sluice sends thousands of requests to rate-limited AI APIs and gets every answer back as fast as the " +
            "provider allows: no 429 storms, no lost requests, no hand-tuned concurrency.");
        root.Subcommands.Add(MockCommand.Create());
        return root;
    }

    public static Task<int> InvokeAsync(string[] args)
    {
        var parseResult = Build().Parse(args);
        return parseResult.InvokeAsync();
    }
}
