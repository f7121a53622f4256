using System.CommandLine;
using System.CommandLine.Help;
using Sluice.Cli.Collect;
using Sluice.Cli.Common;
using Sluice.Cli.Data;
using Sluice.Cli.Mock;
using Sluice.Cli.Proxy;
using Sluice.Cli.Run;

namespace Sluice.Cli;

/// <summary>Builds the <c>sluice</c> command tree. Each subcommand lives in its own folder and registers here.</summary>
internal static class SluiceCommandLine
{
    /// <summary>Exit code for a usage or input error, as the run contract in DESIGN.md fixes it.</summary>
    public const int UsageError = ExitCodes.UsageError;

    public static Command Build()
    {
        // A named command rather than RootCommand, whose name would be the assembly's (Sluice.Cli), not 'sluice'.
        var root = new Command(
            "sluice",
            "Sluice sends thousands of requests to rate-limited AI APIs and gets every answer back as fast as the " +
            "provider allows: no 429 storms, no lost requests, no hand-tuned concurrency.")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(CollectCommand.Create());
        root.Subcommands.Add(ProxyCommand.Create());
        root.Subcommands.Add(MockCommand.Create());
        root.Subcommands.Add(PrepareCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());

        // Bare 'sluice' shows what it can do rather than complaining that no command was given.
        root.SetAction(parseResult => new HelpAction().Invoke(parseResult));
        return root;
    }

    public static Task<int> InvokeAsync(string[] args) => InvokeAsync(args, new InvocationConfiguration());

    /// <summary>
    /// Parses and runs. A usage error (unknown option, bad value) prints its errors and the command's usage and
    /// exits with <see cref="UsageError"/>, not System.CommandLine's 1, which the run contract gives to failed jobs.
    /// An exception no command handled is one line and <see cref="ExitCodes.SluiceFailed"/> — not System.CommandLine's
    /// stack trace and 1 — whichever command it came from.
    /// </summary>
    public static async Task<int> InvokeAsync(string[] args, InvocationConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        // No response files: an @FILE argument is the command's own (sluice prepare --template @prompt.txt), never
        // expanded into arguments by the parser.
        var parseResult = Build().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parseResult.Errors.Count == 0 || parseResult.Action is HelpAction)
        {
            configuration.EnableDefaultExceptionHandler = false;
            try
            {
                return await parseResult.InvokeAsync(configuration).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C before a command took over its own stopping: interrupted, not failed.
                return ExitCodes.StoppedEarly;
            }
#pragma warning disable CA1031 // The last line of defence: one line and exit 4, whatever it was.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                await configuration.Error.WriteLineAsync($"{Usage(parseResult)}: failed: {ExitCodes.Describe(exception)}").ConfigureAwait(false);
                return ExitCodes.SluiceFailed;
            }
        }

        foreach (var error in parseResult.Errors)
        {
            await configuration.Error.WriteLineAsync(error.Message).ConfigureAwait(false);
        }

        await configuration.Error.WriteLineAsync($"Run '{Usage(parseResult)} --help' for usage.").ConfigureAwait(false);
        return UsageError;
    }

    private static string Usage(ParseResult parseResult)
    {
        var names = new List<string> { "sluice" };
        for (var command = parseResult.CommandResult; command.Parent is System.CommandLine.Parsing.CommandResult parent; command = parent)
        {
            names.Insert(1, command.Command.Name);
        }

        return string.Join(' ', names);
    }
}
