using System.CommandLine;

namespace Sluice.Cli.Tests.Data;

/// <summary>Runs a <c>sluice</c> command line in-process and returns what it printed.</summary>
internal static class DataCommands
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(arguments, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(TimeSpan.FromSeconds(60));
        return (exitCode, output.ToString(), error.ToString());
    }
}
