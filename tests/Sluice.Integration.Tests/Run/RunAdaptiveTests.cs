using System.Text.Json;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Run;

/// <summary><c>sluice run</c> told no budget and no concurrency: it learns both, from headers or from 429s alone.</summary>
/// <remarks>Counts throttled attempts, so it runs alone like the other pacing measurements.</remarks>
[Collection(Http.PacingMeasurements.Name)]
public sealed class RunAdaptiveTests
{
    [Fact]
    public async Task NoBudgetGiven_AdoptsTheBudgetTheHeadersState_AndStaysWithinIt()
    {
        using var files = new BatchFiles(120);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 3_000, TokensPerMinute = 600_000 },
            Latency = TimeSpan.FromMilliseconds(50),
            LatencyJitter = TimeSpan.FromMilliseconds(40),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        var stats = mock.GetStats();
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Equal(0, stats.CustomIds.DuplicateSuccesses);
        Assert.Contains("3,000 rpm (from headers) · 600,000 tpm (from headers)", output, StringComparison.Ordinal);
        long refused = stats.Rejected.Values.Sum();
        Assert.True(refused <= 0.02 * stats.Received, $"{refused} of {stats.Received} requests refused\n{output}");
    }

    [Fact]
    public async Task NoHeaders_LearnsARateFromThe429s_LosingNothing()
    {
        using var files = new BatchFiles(300);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 3_000 },
            RateLimitHeaders = false,
            Latency = TimeSpan.FromMilliseconds(50),
            LatencyJitter = TimeSpan.FromMilliseconds(40),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        var stats = mock.GetStats();
        Assert.Equal(0, stats.CustomIds.DuplicateSuccesses);
        Assert.Contains("rpm (learned from 429s)", output, StringComparison.Ordinal);
        long refused = stats.Rejected.Values.Sum();
        Assert.True(refused <= 0.1 * stats.Received, $"{refused} of {stats.Received} requests refused\n{output}");
    }

    [Fact]
    public async Task JsonLogFormat_ReportsTheLearnedLimitsWhenTheyChange()
    {
        using var files = new BatchFiles(40);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 6_000 },
            Latency = TimeSpan.FromMilliseconds(100),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, _) = await files.RunAsync(mock.BaseUrl, "--log-format", "json");

        Assert.Equal(0, exitCode);
        var events = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var limits = events.Where(e => e.GetProperty("event").GetString() == "limits").Select(e => e.GetProperty("limits")).ToList();
        Assert.Contains(limits, l => l.GetProperty("requests_source").GetString() == "headers" && l.GetProperty("requests_per_minute").GetDouble() == 6_000);
        Assert.All(limits, l => Assert.True(l.GetProperty("adaptive_concurrency").GetBoolean() || l.GetProperty("concurrency").GetInt32() == 0));
        var summary = events[^1].GetProperty("limits");
        Assert.Equal("headers", summary.GetProperty("requests_source").GetString());
    }

    [Fact]
    public async Task Anthropic_OutputBudgetGivenOnTheCommandLine_PacesTheOutputCaps_WithoutHeaders()
    {
        // No rate-limit headers: only --output-tpm tells Sluice that 100 caps of 20 output tokens take 4 s at 500 a second.
        using var files = new BatchFiles(100, model: _ => "claude-haiku-4-5", url: "/v1/messages");
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            // Two seconds of burst at the mock against the one Sluice paces with: a busy machine can hold paced requests
            // back and send them together (a CI run once drew 22 refusals so); unpaced, the caps still overrun it.
            Limits = new MockLimits { OutputTokensPerMinute = 30_000, InputTokensPerMinute = 600_000, Burst = TimeSpan.FromSeconds(2) },
            RateLimitHeaders = false,
            ReplyTokens = 40,
            Latency = TimeSpan.FromMilliseconds(30),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl, "--provider", "anthropic", "--output-tpm", "30000", "--input-tpm", "600000");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        var stats = mock.GetStats();
        Assert.Equal(100, stats.Succeeded);
        Assert.Equal(0, stats.BudgetViolations.Total);
        Assert.Contains("600,000 input tpm (configured) · 30,000 output tpm (configured)", output, StringComparison.Ordinal);
        // Sluice is told exactly the mock's budget, so a refusal or three at the edge (an answer's timing against the
        // mock's refill) is expected; a storm, as before output budgets were paced (15% of attempts), is not.
        long refused = stats.Rejected.Values.Sum();
        Assert.True(refused <= 0.05 * stats.Received, $"{refused} of {stats.Received} requests refused: {string.Join(", ", stats.Rejected)}\n{output}");
    }
}
