using System.CommandLine;
using System.Text.Json;
using Sluice.Mock;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// <c>sluice run</c>'s spend cap, dry run and response cache, in-process against the mock on 127.0.0.1: what the mock
/// was sent (its request statistics) is the measure of what was paid for.
/// </summary>
public sealed class RunSpendAndCacheTests
{
    // A price of $1,000 per million tokens either way: a line of the mock's costs a few cents, so a cap of a dollar
    // stops a 60-line batch part way, with every figure readable.
    private const string Prices = """{ "asOf": "2025-11-01", "openai": { "models": { "gpt-4o-mini": { "input": 1000, "output": 1000 } } } }""";

    private static Task<MockServer> StartMockAsync() => MockServer.StartAsync(new MockOptions
    {
        Limits = new MockLimits { RequestsPerMinute = 60_000 },
        Latency = TimeSpan.FromMilliseconds(20),
    }).WaitAsync(BatchFiles.Bound);

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Cli.SluiceCommandLine.InvokeAsync(arguments, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(BatchFiles.Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    private static JsonElement Meta(JsonElement line) => line.GetProperty("sluice");

    [Fact]
    public async Task CappedRun_StopsBeforeTheCap_Exit3_AndARerunWithoutIt_FinishesTheRest_NothingSentTwice()
    {
        using var files = new BatchFiles(60);
        string prices = Path.Combine(files.Directory, "prices.json");
        File.WriteAllText(prices, Prices);
        await using var mock = await StartMockAsync();

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--prices", prices, "--max-spend", "1.00");

        Assert.True(exitCode == 3, $"exit {exitCode}\n{output}\n{error}");
        Assert.Contains("the spend cap $1.00 is reached", error, StringComparison.Ordinal);
        Assert.Contains("the spend cap $1.00 is reached", output, StringComparison.Ordinal);
        Assert.Contains("Run again with a higher --max-spend (or without it)", error, StringComparison.Ordinal);
        Assert.Contains("cap $1.00", output, StringComparison.Ordinal);
        var first = BatchFiles.ReadLines(files.Results);
        Assert.InRange(first.Count, 1, 59);
        Assert.Contains($"{60 - first.Count} lines left", output, StringComparison.Ordinal);

        // What the mock answered, priced as the run prices it, stayed within the cap; so did what the results say.
        var statsAfterFirst = mock.GetStats();
        Assert.True(PriceTable.Load(prices).TryFind(ProviderKind.OpenAI, "gpt-4o-mini", out var price));
        decimal answeredCost = price.CostOf(statsAfterFirst.PromptTokens, statsAfterFirst.CompletionTokens);
        Assert.InRange(answeredCost, 0.01m, 1.00m);
        decimal recorded = first.Sum(l => Meta(l).GetProperty("cost").GetDecimal());
        Assert.InRange(recorded, 0.01m, 1.00m);
        Assert.All(first, l => Assert.False(Meta(l).GetProperty("cached").GetBoolean()));
        var doneFirst = first.Select(BatchFiles.IdOf).ToHashSet(StringComparer.Ordinal);
        var countsFirst = doneFirst.ToDictionary(id => id, id => statsAfterFirst.CustomIds.Counts.GetValueOrDefault(id), StringComparer.Ordinal);

        // The same command again keeps to the same cap over the whole batch: what the first run spent counts, so it
        // sends at most what the first run's reservations had held back, and the batch's cost stays within the cap.
        var (again, againOutput, againError) = await files.RunAsync(mock.BaseUrl, "--prices", prices, "--max-spend", "1.00");
        Assert.True(again == 3, $"exit {again}\n{againOutput}\n{againError}");
        var statsAfterAgain = mock.GetStats();
        Assert.InRange(price.CostOf(statsAfterAgain.PromptTokens, statsAfterAgain.CompletionTokens), answeredCost, 1.00m);
        int doneBeforeRerun = BatchFiles.ReadLines(files.Results).Count;
        Assert.InRange(doneBeforeRerun, first.Count, 59);
        long receivedBeforeRerun = statsAfterAgain.Received;

        var (rerun, rerunOutput, rerunError) = await files.RunAsync(mock.BaseUrl, "--prices", prices);

        Assert.True(rerun == 0, $"exit {rerun}\n{rerunOutput}\n{rerunError}");
        var all = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, all.Select(BatchFiles.IdOf));
        var stats = mock.GetStats();
        // Nothing the capped run finished was sent again, and the rest was sent by the rerun alone.
        Assert.All(doneFirst, id => Assert.Equal(countsFirst[id], stats.CustomIds.Counts.GetValueOrDefault(id)));
        Assert.All(files.Ids.Where(id => !doneFirst.Contains(id)), id => Assert.InRange(stats.CustomIds.Counts.GetValueOrDefault(id), 1, 2));
        Assert.InRange(stats.Received - receivedBeforeRerun, 60 - doneBeforeRerun, 60 - doneBeforeRerun + 5);
        Assert.InRange(stats.Received, 60, 65);
    }

    [Fact]
    public async Task Rerun_WithOneLineChanged_IntoAFreshResultsFile_SendsOneRequest_RestFromTheCache()
    {
        using var files = new BatchFiles(50);
        await using var mock = await StartMockAsync();
        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);
        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Contains("cache ", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(files.Directory, "sluice-cache.db")));
        long sentFirst = mock.GetStats().Received;

        string changed = Path.Combine(files.Directory, "requests-v2.jsonl");
        var lines = File.ReadAllLines(files.Input);
        lines[6] = BatchFiles.Line(7, "gpt-4o-mini", "Summarise post 7, in one sentence.");
        File.WriteAllLines(changed, lines);
        string results = Path.Combine(files.Directory, "results-v2.jsonl");

        var (rerun, rerunOutput, rerunError) = await InvokeAsync(
            "run", changed, "-o", results, "--base-url", mock.BaseUrl.ToString(), "--api-key-env", BatchFiles.KeyVariable);

        Assert.True(rerun == 0, $"exit {rerun}\n{rerunOutput}\n{rerunError}");
        var stats = mock.GetStats();
        Assert.Equal(1, stats.Received - sentFirst);
        Assert.Equal(2, stats.CustomIds.Counts.GetValueOrDefault("req-7"));
        var answered = BatchFiles.ReadLines(results);
        Assert.Equal(files.Ids, answered.Select(BatchFiles.IdOf));
        Assert.Equal(49, answered.Count(l => Meta(l).GetProperty("cached").GetBoolean()));
        var fresh = Assert.Single(answered, l => !Meta(l).GetProperty("cached").GetBoolean());
        Assert.Equal("req-7", BatchFiles.IdOf(fresh));
        Assert.True(Meta(fresh).GetProperty("cost").GetDecimal() > 0);
        Assert.All(answered.Where(l => Meta(l).GetProperty("cached").GetBoolean()), l => Assert.Equal(0m, Meta(l).GetProperty("cost").GetDecimal()));
        Assert.All(answered, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
        Assert.Contains("cache 49 answered from", rerunOutput, StringComparison.Ordinal);
        Assert.Matches(@"saved 49 requests, [\d,]+ tokens, \$0\.0", rerunOutput);
    }

    [Fact]
    public async Task DryRun_PrintsTheEstimate_AndTheMockReceivesNothing()
    {
        using var files = new BatchFiles(40, model: i => i % 4 == 0 ? "gpt-4o" : "gpt-4o-mini");
        await using var mock = await StartMockAsync();

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--dry-run");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(0, mock.GetStats().Received);
        Assert.Contains("40 valid lines; nothing was sent", output, StringComparison.Ordinal);
        Assert.Matches(@"gpt-4o\s+10\s+[\d,]+\s+200\s+\$0\.", output);
        Assert.Matches(@"gpt-4o-mini\s+30\s+[\d,]+\s+600\s+\$0\.", output);
        Assert.Matches(@"total\s+40\s+[\d,]+\s+800\s+\$0\.", output);
        Assert.DoesNotContain("no price for", output, StringComparison.Ordinal);
        Assert.False(File.Exists(files.Results));
        Assert.False(File.Exists(files.Journal));
        Assert.False(File.Exists(Path.Combine(files.Directory, "sluice-cache.db")));
    }

    [Fact]
    public async Task CorruptedCacheFile_TheRunSucceeds_WithOneWarning()
    {
        using var files = new BatchFiles(30);
        string cache = Path.Combine(files.Directory, "sluice-cache.db");
        var garbage = new byte[64 * 1024];
        new Random(16).NextBytes(garbage);
        File.WriteAllBytes(cache, garbage);
        await using var mock = await StartMockAsync();

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        Assert.Equal(30, mock.GetStats().Received);
        var warnings = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var warning = Assert.Single(warnings);
        Assert.Contains("warning", warning, StringComparison.Ordinal);
        Assert.Contains(cache, warning, StringComparison.Ordinal);
        Assert.Contains("not used (see the warning above)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCache_SendsEverythingAgain()
    {
        using var files = new BatchFiles(10);
        await using var mock = await StartMockAsync();
        var (exitCode, _, _) = await files.RunAsync(mock.BaseUrl);
        Assert.Equal(0, exitCode);
        File.Delete(files.Journal);

        var (rerun, output, error) = await files.RunAsync(mock.BaseUrl, "--no-cache");

        Assert.True(rerun == 0, $"exit {rerun}\n{output}\n{error}");
        Assert.Equal(20, mock.GetStats().Received);
        Assert.All(BatchFiles.ReadLines(files.Results), l => Assert.False(Meta(l).GetProperty("cached").GetBoolean()));
        Assert.DoesNotContain("answered from", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Summary_AndJsonEvents_CarrySpentAndProjected()
    {
        using var files = new BatchFiles(20);
        await using var mock = await StartMockAsync();

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--log-format", "json", "--no-cache");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        var summary = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .Single(e => e.GetProperty("event").GetString() == "summary");
        decimal spent = summary.GetProperty("spent").GetDecimal();
        decimal recorded = BatchFiles.ReadLines(files.Results).Sum(l => Meta(l).GetProperty("cost").GetDecimal());
        Assert.True(spent > 0);
        Assert.Equal(Math.Round(recorded, 6), spent);
        Assert.Equal("answers", summary.GetProperty("projected_from").GetString());
        Assert.Equal(spent, summary.GetProperty("projected").GetDecimal(), 6);
        Assert.Equal(0, summary.GetProperty("cache_hits").GetInt64());
    }
}
