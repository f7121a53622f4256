using System.CommandLine;

namespace Sluice.Cli.Tests;

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
    public async Task UnknownCommand_IsAUsageError_Exit2()
    {
        var (exit, output) = await InvokeAsync("frobnicate");

        Assert.Equal(SluiceCommandLine.UsageError, exit);
        Assert.Contains("'frobnicate'", output);
        Assert.Contains("sluice --help", output);
    }

    [Fact]
    public async Task BadOptionValue_NamesTheOptionAndTheValue_Exit2()
    {
        var (exit, output) = await InvokeAsync("mock", "--rpm", "lots");

        Assert.Equal(SluiceCommandLine.UsageError, exit);
        Assert.Contains("--rpm must be a whole number at least 1, not 'lots'", output);
        Assert.Contains("sluice mock --help", output);
    }

    [Fact]
    public async Task NoCommand_ShowsHelp()
    {
        var (exit, output) = await InvokeAsync();

        Assert.Equal(0, exit);
        Assert.Contains("Usage:", output);
        Assert.Contains("sluice [command] [options]", output);
    }

    private static async Task<(int Exit, string Output)> InvokeAsync(params string[] args)
    {
        using var output = new StringWriter();
        var exit = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = output })
            .WaitAsync(TimeSpan.FromSeconds(30));
        return (exit, output.ToString());
    }
}
