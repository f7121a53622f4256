using System.CommandLine;

namespace Sluice.Cli.Tests.Run;

/// <summary>
/// The spend and cache options of <c>sluice run</c> as a user meets them: help that explains each with an example, and
/// bad values refused before anything is sent, exit 2, naming the value.
/// </summary>
public sealed class RunSpendUsageTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-spend-").FullName;

    public RunSpendUsageTests()
    {
        Input = Path.Combine(_directory, "in.jsonl");
        File.WriteAllLines(Input, [Line("a", "gpt-4o-mini"), Line("b", "gpt-4o-mini"), Line("c", "my-local-model")]);
    }

    private string Input { get; }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private static string Line(string id, string model) =>
        $$$"""{"custom_id":"{{{id}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"{{{model}}}","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}}""";

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Help_ExplainsEachSpendAndCacheOption_WithAnExample()
    {
        var (exitCode, output, _) = await InvokeAsync("run", "--help");

        Assert.Equal(0, exitCode);
        foreach (string expected in new[]
        {
            "--prices", "--prices my-prices.json", "--max-spend", "--max-spend 5.00", "--dry-run", "sluice run posts.jsonl --dry-run",
            "--cache", "sluice-cache.db", "--no-cache", "--cache-max-size", "--cache-max-size 500MB", "(default: 1GB)",
            "--cache-max-age", "--cache-max-age 7d", "(default: 30d)",
        })
        {
            Assert.Contains(expected, output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("five")]
    [InlineData("5,00")]
    public async Task BadMaxSpend_NamesTheValue_Exit2(string value)
    {
        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--max-spend", value);

        Assert.Equal(2, exitCode);
        Assert.Contains($"--max-spend must be an amount in US dollars more than 0 (like 5, 5.00 or 0.25), not '{value}'", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "in.results.jsonl")));
    }

    [Theory]
    [InlineData("--cache-max-size", "huge", "'huge' is not a size")]
    [InlineData("--cache-max-size", "0MB", "'0MB' is not a size")]
    [InlineData("--cache-max-age", "forever", "'forever' is not a duration")]
    public async Task BadCacheValues_NameTheValue_Exit2(string option, string value, string expected)
    {
        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", option, value);

        Assert.Equal(2, exitCode);
        Assert.Contains($"{option}: {expected}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TinyCache_IsRefused_Exit2()
    {
        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--cache-max-size", "100KB");

        Assert.Equal(2, exitCode);
        Assert.Contains("--cache-max-size must be at least 1MB, not 100 KB", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CacheAndNoCache_Contradict_Exit2()
    {
        string cache = Path.Combine(_directory, "c.db");

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--cache", cache, "--no-cache");

        Assert.Equal(2, exitCode);
        Assert.Contains("--no-cache contradict each other", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CacheOverTheJournal_IsRefused_Exit2()
    {
        string journal = Path.Combine(_directory, "j.journal");

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--journal", journal, "--cache", journal);

        Assert.Equal(2, exitCode);
        Assert.Contains("the journal and the response cache would be the same file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxSpend_WithAModelWithoutAPrice_NamesTheModelAndLine_BeforeSending_Exit2()
    {
        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--max-spend", "5");

        Assert.Equal(2, exitCode);
        Assert.Contains("my-local-model (line 3)", error, StringComparison.Ordinal);
        Assert.Contains("--prices FILE", error, StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(File.Exists(Path.Combine(_directory, "in.results.jsonl")));
    }

    [Fact]
    public async Task BadPriceFile_NamesTheFileAndTheValue_Exit2()
    {
        string prices = Path.Combine(_directory, "prices.json");
        File.WriteAllText(prices, """
            {
              "asOf": "2025-11-01",
              "openai": { "models": {
                "my-local-model": { "input": "cheap", "output": 1 }
              } }
            }
            """);

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--prices", prices);

        Assert.Equal(2, exitCode);
        Assert.Contains(prices, error, StringComparison.Ordinal);
        Assert.Contains("cheap", error, StringComparison.Ordinal);
        Assert.Contains($"{prices}:4:", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingPriceFile_NamesIt_Exit2()
    {
        string prices = Path.Combine(_directory, "no-such-prices.json");

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--prices", prices);

        Assert.Equal(2, exitCode);
        Assert.Contains(prices, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PriceFile_MakesTheModelPriced_SoTheCappedRunGoesAhead()
    {
        string prices = Path.Combine(_directory, "prices.json");
        File.WriteAllText(prices, """{ "asOf": "2025-11-01", "openai": { "models": { "my-local-model": { "input": 1, "output": 2 } } } }""");

        var (exitCode, output, error) = await InvokeAsync("run", Input, "--mock", "--prices", prices, "--max-spend", "5", "--no-cache");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Contains("cap $5.00", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxSpend_FromTheConfigFile_IsCheckedToo()
    {
        string config = Path.Combine(_directory, "config.json");
        File.WriteAllText(config, """{ "max_spend": "nothing" }""");

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--mock", "--config", config);

        Assert.Equal(2, exitCode);
        Assert.Contains("\"max_spend\" must be an amount in US dollars more than 0", error, StringComparison.Ordinal);
        Assert.Contains("'nothing'", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_NeedsNoKey_EstimatesPerModel_AndWritesNothing()
    {
        var (exitCode, output, error) = await InvokeAsync("run", Input, "--dry-run", "--api-key-env", "SLUICE_NO_SUCH_KEY_FOR_DRY_RUN");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Contains("3 valid lines; nothing was sent", output, StringComparison.Ordinal);
        Assert.Matches(@"gpt-4o-mini\s+2\s+\d+\s+20\s+\$0\.0000", output);
        Assert.Matches(@"my-local-model\s+1\s+\d+\s+10\s+no price", output);
        Assert.Contains("no price for: my-local-model (1 line, first on line 3)", output, StringComparison.Ordinal);
        Assert.Matches(@"total\s+3\s+\d+\s+30\s+at least \$", output);
        Assert.Equal(["in.jsonl"], Directory.GetFiles(_directory).Select(Path.GetFileName));
    }

    [Fact]
    public async Task DryRun_InvalidLines_AreReportedWithTheirNumbers_Exit2()
    {
        File.AppendAllText(Input, "{\"custom_id\":\"a\",\"method\":\"GET\"}\n");

        var (exitCode, _, error) = await InvokeAsync("run", Input, "--dry-run");

        Assert.Equal(2, exitCode);
        Assert.Contains("line 4:", error, StringComparison.Ordinal);
        Assert.Contains("nothing was sent", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.000001", "the worst case passes it")]
    [InlineData("100", "the whole file fits under it even at its worst case")]
    public async Task DryRun_WithACap_SaysWhetherTheWorstCaseFits(string cap, string expected)
    {
        File.WriteAllLines(Input, [Line("a", "gpt-4o-mini"), Line("b", "gpt-4o-mini")]);

        var (exitCode, output, _) = await InvokeAsync("run", Input, "--dry-run", "--max-spend", cap);

        Assert.Equal(0, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }
}
