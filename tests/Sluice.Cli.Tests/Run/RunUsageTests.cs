using System.CommandLine;

namespace Sluice.Cli.Tests.Run;

/// <summary>What <c>sluice run</c> refuses before sending anything: each problem one clear line, exit 2.</summary>
public sealed class RunUsageTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const string Line = """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[]}}""";
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-usage-").FullName;

    public RunUsageTests()
    {
        Input = Path.Combine(_directory, "in.jsonl");
        File.WriteAllText(Input, Line + "\n");
        Environment.SetEnvironmentVariable("SLUICE_USAGE_TEST_KEY", "sk-usage-test-secret");
    }

    private string Input { get; }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static async Task<(int ExitCode, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, error.ToString());
    }

    [Fact]
    public async Task MissingInput_OneLine_Exit2()
    {
        var (exitCode, error) = await InvokeAsync("run", Path.Combine(_directory, "nope.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.Equal($"sluice run: cannot read {Path.Combine(_directory, "nope.jsonl")}: no such file", error.Trim());
    }

    [Fact]
    public async Task UnwritableOutput_OneLine_Exit2()
    {
        string output = Path.Combine(_directory, "missing-dir", "out.jsonl");

        var (exitCode, error) = await InvokeAsync("run", Input, "-o", output, "--mock");

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"sluice run: cannot write results to {output}: the directory", error.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutputOverTheInput_IsRefused_Exit2()
    {
        var (exitCode, error) = await InvokeAsync("run", Input, "-o", Input, "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains("must be four different files", error, StringComparison.Ordinal);
        Assert.Equal(Line + "\n", File.ReadAllText(Input));
    }

    [Fact]
    public async Task MissingApiKey_NamesTheVariable_Exit2()
    {
        var (exitCode, error) = await InvokeAsync("run", Input, "--api-key-env", "SLUICE_NO_SUCH_VARIABLE_FOR_TESTS");

        Assert.Equal(2, exitCode);
        Assert.Contains("no API key: set SLUICE_NO_SUCH_VARIABLE_FOR_TESTS", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("api.openai.com")]
    [InlineData("ftp://example.com")]
    public async Task BadBaseUrl_OneLine_Exit2_AndTheKeyIsNeverShown(string baseUrl)
    {
        var (exitCode, error) = await InvokeAsync("run", Input, "--api-key-env", "SLUICE_USAGE_TEST_KEY", "--base-url", baseUrl);

        Assert.Equal(2, exitCode);
        Assert.StartsWith("sluice run: bad base URL:", error.Trim(), StringComparison.Ordinal);
        Assert.DoesNotContain("sk-usage-test-secret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreachableBaseUrl_OneLine_Exit2()
    {
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        var (exitCode, error) = await InvokeAsync("run", Input, "--api-key-env", "SLUICE_USAGE_TEST_KEY", "--base-url", "http://127.0.0.1:1/v1");

        Assert.Equal(2, exitCode);
        Assert.StartsWith("sluice run: cannot reach 127.0.0.1:1:", error.Trim(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--concurrency", "zero")]
    [InlineData("--provider", "cohere")]
    [InlineData("--timeout", "soon")]
    [InlineData("--log-format", "xml")]
    public async Task BadOptionValue_NamesTheOption_Exit2(string option, string value)
    {
        var (exitCode, error) = await InvokeAsync("run", Input, option, value, "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains(value, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--timeout", "0s")]
    [InlineData("--max-attempts", "5000")]
    [InlineData("--concurrency", "2000000")]
    public async Task OutOfRangeValue_NamesTheOption_Exit2(string option, string value)
    {
        var (exitCode, error) = await InvokeAsync("run", Input, option, value, "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains($"{option} must be", error, StringComparison.Ordinal);
        Assert.Contains(value, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnvironmentSetting_ThatDoesNotParse_NamesTheVariable_Exit2()
    {
        // Read only when --rpm is absent; the variable name is unique to this test.
        Environment.SetEnvironmentVariable("SLUICE_RPM", "fast");
        try
        {
            var (exitCode, error) = await InvokeAsync("run", Input, "--mock");

            Assert.Equal(2, exitCode);
            Assert.Equal("sluice run: SLUICE_RPM must be a whole number at least 1, not 'fast'", error.Trim());
        }
        finally
        {
            Environment.SetEnvironmentVariable("SLUICE_RPM", null);
        }
    }

    [Fact]
    public async Task Help_DescribesEveryOption()
    {
        var output = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(["run", "--help"], new InvocationConfiguration { Output = output }).WaitAsync(Bound);

        Assert.Equal(0, exitCode);
        foreach (string option in new[] { "--output", "--errors", "--base-url", "--api-key-env", "--provider", "--rpm", "--tpm", "--concurrency", "--max-attempts", "--timeout", "--journal", "--mock", "--config", "--log-format" })
        {
            Assert.Contains(option, output.ToString(), StringComparison.Ordinal);
        }

        Assert.Contains("run it again to resume", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("4 Sluice itself failed", output.ToString(), StringComparison.Ordinal);
    }
}
