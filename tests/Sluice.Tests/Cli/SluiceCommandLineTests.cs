using System.CommandLine;
using Sluice.Cli;

namespace Sluice.Tests.Cli;

public sealed class SluiceCommandLineTests
{
    [Fact]
    public async Task Help_DescribesSluiceAndListsCommands()
    {
        var (exit, output) = await InvokeAsync("--help");

        Assert.Equal(0, exit);
        Assert.Contains("rate-limited AI APIs", output);
        Assert.Contains("--version", output);
        Assert.Contains("Usage:", output);
    }

    [Fact]
    public async Task Version_PrintsTheProductVersion()
    {
        var (exit, output) = await InvokeAsync("--version");

        Assert.Equal(0, exit);
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Fact]
    public async Task UnknownCommand_IsAUsageError()
    {
        var (exit, output) = await InvokeAsync("frobnicate");

        Assert.NotEqual(0, exit);
        Assert.Contains("frobnicate", output);
    }

    private static async Task<(int Exit, string Output)> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        var parse = SluiceCommandLine.Build().Parse(args);
        var exit = await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = output })
            .WaitAsync(TimeSpan.FromSeconds(30));
        return (exit, output.ToString());
    }
}
