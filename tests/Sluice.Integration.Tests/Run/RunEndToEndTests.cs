using System.Text.Json;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Run;

/// <summary><c>sluice run</c> in-process against the mock on 127.0.0.1.</summary>
public sealed class RunEndToEndTests
{
    [Fact]
    public async Task AllSucceed_UnderTightLimits_WithNoBudgetViolation_AndEachIdOnce()
    {
        using var files = new BatchFiles(150);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 1_800, TokensPerMinute = 300_000 },
            Latency = TimeSpan.FromMilliseconds(50),
            LatencyJitter = TimeSpan.FromMilliseconds(40),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--rpm", "1800", "--tpm", "300000");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
        Assert.Empty(BatchFiles.ReadLines(files.Errors));
        var stats = mock.GetStats();
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(0, stats.CustomIds.DuplicateSuccesses);
        Assert.Equal(150, stats.CustomIds.Distinct);
        Assert.Contains("150 requests: 150 succeeded, 0 failed, 0 not done", output, StringComparison.Ordinal);
        Assert.DoesNotContain(BatchFiles.Key, output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FaultMix_EveryIdEndsPresentOnce_NoJobLost()
    {
        using var files = new BatchFiles(300);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 6_000 },
            Latency = TimeSpan.FromMilliseconds(20),
            Seed = 5,
            Faults = new MockFaults
            {
                InternalServerErrorRate = 0.05,
                ConnectionResetRate = 0.02,
                MalformedBodyRate = 0.01,
                HangRate = 0.01,
            },
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--rpm", "6000", "--timeout", "1s", "--max-attempts", "10");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("error").ValueKind));
        var stats = mock.GetStats();
        Assert.True(stats.Faults.Values.Sum() > 10, "the faults were injected");
        // A try cut by the 1 s timeout (or hedged on a busy machine) may still have succeeded at the mock: the results
        // hold each id once whatever the mock answered, and every answer the mock gave twice cost a try the summary
        // counted.
        var attempts = System.Text.RegularExpressions.Regex.Match(output, @"attempts (\d+) · retries (\d+)");
        Assert.True(attempts.Success, output);
        int retries = int.Parse(attempts.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retries, 1, int.MaxValue);
        Assert.InRange(stats.CustomIds.DuplicateSuccesses, 0, retries);
    }

    [Fact]
    public async Task PermanentErrors_LandInTheErrorsFile_AndTheResultsFile_ExitOne()
    {
        // Every 10th line names a model the mock does not know (404); every 25th is too long for its context (400).
        using var files = new BatchFiles(
            60,
            model: i => i % 10 == 0 ? "no-such-model" : "gpt-4o-mini",
            content: i => i % 25 == 0 ? new string('x', 4_000) : $"post {i}");
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Faults = new MockFaults { ContextLengthLimit = 500 },
            Latency = TimeSpan.FromMilliseconds(10),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);

        Assert.True(exitCode == 1, $"exit {exitCode}\n{output}\n{error}");
        var failed = BatchFiles.ReadLines(files.Errors);
        Assert.Equal(["req-10", "req-20", "req-25", "req-30", "req-40", "req-50", "req-60"], failed.Select(BatchFiles.IdOf));
        var byId = failed.ToDictionary(BatchFiles.IdOf);
        Assert.Equal("model_not_found", byId["req-10"].GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(404, byId["req-10"].GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("context_length_exceeded", byId["req-25"].GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(400, byId["req-25"].GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        // Permanent errors are never retried: the 7 would add 28 tries. A busy machine may still hedge a slow success
        // (a second try of a job whose first ran past the partition's 99th percentile). A hedge is counted as a try
        // when it starts, but it is cancelled as soon as the first try answers and may never reach the mock, so the
        // mock saw each of the 60 lines and at most the tries the summary counts.
        var attempts = System.Text.RegularExpressions.Regex.Match(output, @"attempts (\d+) · retries (\d+)");
        Assert.True(attempts.Success, output);
        long counted = long.Parse(attempts.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var stats = mock.GetStats();
        Assert.InRange(stats.Received, 60, counted);
        // A permanent error is never retried: retried, each of the 7 would reach the mock MaxAttempts (5) times, 28 tries
        // more. On a busy machine a try may still be cut by its learned timeout (4 x p99, at least 2 s) after the mock
        // answered, and that cut try is retried (10 were, once, with a mutation run beside the tests), so the summary's
        // retries are no measure of this. The mock's counts are: it counts ids only for models it knows (req-25 here).
        Assert.InRange(stats.Received, 60, 60 + 27);
        Assert.All(failed.Select(BatchFiles.IdOf), id => Assert.InRange(stats.CustomIds.Counts.GetValueOrDefault(id), 0, 4));
        Assert.InRange(stats.CustomIds.Counts.GetValueOrDefault("req-25"), 1, 4);
        Assert.True(output.Contains("the first was req-10 (line 10): HTTP 404 (model_not_found)", StringComparison.Ordinal), output);
    }

    [Fact]
    public async Task QuotaStop_ExitsThree_AndARerunAfterTheQuotaReturns_CompletesWithEachIdOnce()
    {
        using var files = new BatchFiles(120);
        int firstRunSucceeded;
        await using (var exhausted = await MockServer.StartAsync(new MockOptions
        {
            Latency = TimeSpan.FromMilliseconds(10),
            Faults = new MockFaults { QuotaExhaustedAfterRequests = 50 },
        }).WaitAsync(BatchFiles.Bound))
        {
            var (exitCode, output, error) = await files.RunAsync(exhausted.BaseUrl, "--rpm", "3000");

            Assert.True(exitCode == 3, $"exit {exitCode}\n{output}\n{error}");
            Assert.Contains("quota", error, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("Run the same command again to resume", error, StringComparison.Ordinal);
            var partial = BatchFiles.ReadLines(files.Results);
            firstRunSucceeded = partial.Count;
            Assert.InRange(firstRunSucceeded, 1, 119);
            Assert.Equal(partial.Count, partial.Select(BatchFiles.IdOf).Distinct().Count());
            Assert.All(partial, l => Assert.Equal(JsonValueKind.Null, l.GetProperty("error").ValueKind));
        }

        await using var restored = await MockServer.StartAsync(new MockOptions { Latency = TimeSpan.FromMilliseconds(10) }).WaitAsync(BatchFiles.Bound);
        var (rerunExit, rerunOutput, rerunError) = await files.RunAsync(restored.BaseUrl, "--rpm", "3000");

        Assert.True(rerunExit == 0, $"exit {rerunExit}\n{rerunOutput}\n{rerunError}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        Assert.Equal(120 - firstRunSucceeded, restored.GetStats().CustomIds.Distinct);
        Assert.Contains("finished by an earlier run", rerunOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RejectedKey_StopsWithExitThree_KeepingWhatFinished_AndNeverShowingTheKey()
    {
        using var files = new BatchFiles(80);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Latency = TimeSpan.FromMilliseconds(10),
            Faults = new MockFaults { AuthExpiresAfterRequests = 30 },
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--rpm", "3000");

        Assert.True(exitCode == 3, $"exit {exitCode}\n{output}\n{error}");
        Assert.Contains("rejected the API key", error, StringComparison.Ordinal);
        Assert.Contains("Run the same command again to resume", error, StringComparison.Ordinal);
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.InRange(lines.Count, 1, 79);
        Assert.All(lines, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
        Assert.Empty(BatchFiles.ReadLines(files.Errors));
        Assert.DoesNotContain(BatchFiles.Key, output + error + File.ReadAllText(files.Journal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonLogFormat_EveryOutputLineIsJson_EndingWithTheSummary()
    {
        using var files = new BatchFiles(20);
        await using var mock = await MockServer.StartAsync(new MockOptions { Latency = TimeSpan.FromMilliseconds(5) }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, _) = await files.RunAsync(mock.BaseUrl, "--rpm", "6000", "--log-format", "json");

        Assert.Equal(0, exitCode);
        var events = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var summary = events[^1];
        Assert.Equal("summary", summary.GetProperty("event").GetString());
        Assert.Equal(20, summary.GetProperty("result_lines").GetInt64());
        Assert.Equal(0, summary.GetProperty("not_done").GetInt32());
        Assert.InRange(summary.GetProperty("efficiency").GetDouble(), 0.01, 1);
    }

    [Fact]
    public async Task ConfigFile_SuppliesSettings_AndOptionsWinOverIt()
    {
        using var files = new BatchFiles(30);
        await using var mock = await MockServer.StartAsync(new MockOptions { Latency = TimeSpan.FromMilliseconds(5) }).WaitAsync(BatchFiles.Bound);
        string config = Path.Combine(files.Directory, "sluice.json");
        File.WriteAllText(config, $$"""{"base_url": "{{mock.BaseUrl}}v1", "api_key_env": "{{BatchFiles.KeyVariable}}", "rpm": 1, "max_attempts": 3}""");
        var output = new StringWriter();
        var error = new StringWriter();

        // --rpm on the command line wins over the file's 1 a minute, which would take half an hour.
        int exitCode = await Cli.SluiceCommandLine.InvokeAsync(
            ["run", files.Input, "-o", files.Results, "--config", config, "--rpm", "6000"],
            new System.CommandLine.InvocationConfiguration { Output = output, Error = error }).WaitAsync(BatchFiles.Bound);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        Assert.Contains("(budget 100.0)", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidLines_AreNamedByLine_AndNothingIsSent()
    {
        using var files = new BatchFiles(5);
        var lines = File.ReadAllLines(files.Input).ToList();
        lines.Insert(2, "{\"custom_id\":\"req-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{}}");
        lines.Add("{\"custom_id\":\"x\",\"method\":\"PUT\",\"url\":\"/v1/chat/completions\",\"body\":{}}");
        File.WriteAllLines(files.Input, lines);
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(BatchFiles.Bound);

        var (exitCode, _, error) = await files.RunAsync(mock.BaseUrl);

        Assert.Equal(2, exitCode);
        Assert.Contains("has 2 invalid lines; nothing was sent", error, StringComparison.Ordinal);
        Assert.Contains("line 3: duplicate custom_id \"req-1\" (first on line 1)", error, StringComparison.Ordinal);
        Assert.Contains("line 7: method must be \"POST\", not \"PUT\"", error, StringComparison.Ordinal);
        Assert.Equal(0, mock.GetStats().Received);
        Assert.False(File.Exists(files.Journal));
    }

    [Fact]
    public async Task ADifferentInput_AgainstTheSameJournal_IsRefused()
    {
        using var files = new BatchFiles(5);
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(BatchFiles.Bound);
        Assert.Equal(0, (await files.RunAsync(mock.BaseUrl)).ExitCode);
        File.AppendAllText(files.Input, BatchFiles.Line(6, "gpt-4o-mini", "one more") + "\n");
        long received = mock.GetStats().Received;

        var (exitCode, _, error) = await files.RunAsync(mock.BaseUrl);

        Assert.Equal(2, exitCode);
        Assert.Contains("belongs to a different input", error, StringComparison.Ordinal);
        Assert.Equal(received, mock.GetStats().Received);
    }
}
