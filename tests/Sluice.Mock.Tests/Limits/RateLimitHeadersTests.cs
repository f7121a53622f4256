using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Limits;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Tests.Limits;

public class RateLimitHeadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Write_OpenAI_ReportsRequestsAndTokensWithDurations()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, Provider.OpenAI, Snapshot(
            requests: new DimensionState(500, 499, TimeSpan.FromMilliseconds(120)),
            tokens: new DimensionState(30000, 29000, TimeSpan.FromMinutes(6))));

        Assert.Equal("500", headers["x-ratelimit-limit-requests"]);
        Assert.Equal("499", headers["x-ratelimit-remaining-requests"]);
        Assert.Equal("120ms", headers["x-ratelimit-reset-requests"]);
        Assert.Equal("30000", headers["x-ratelimit-limit-tokens"]);
        Assert.Equal("29000", headers["x-ratelimit-remaining-tokens"]);
        Assert.Equal("6m0s", headers["x-ratelimit-reset-tokens"]);
        Assert.DoesNotContain(headers.Keys, key => key.StartsWith("anthropic", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_OnlyReportsConfiguredBudgets()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, Provider.OpenAI, Snapshot(requests: new DimensionState(60, 1, TimeSpan.Zero)));

        Assert.Equal(3, headers.Count);
        Assert.Equal("0s", headers["x-ratelimit-reset-requests"]);
    }

    [Fact]
    public void Write_Anthropic_ReportsEveryBudgetWithRfc3339Resets()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.Write(headers, Provider.Anthropic, Snapshot(
            requests: new DimensionState(50, 49, TimeSpan.FromSeconds(1.2)),
            tokens: new DimensionState(100000, 90000, TimeSpan.FromSeconds(6)),
            input: new DimensionState(40000, 100, TimeSpan.FromSeconds(59)),
            output: new DimensionState(8000, 7000, TimeSpan.FromSeconds(7))));

        Assert.Equal("50", headers["anthropic-ratelimit-requests-limit"]);
        Assert.Equal("49", headers["anthropic-ratelimit-requests-remaining"]);
        Assert.Equal("2026-03-01T12:00:02Z", headers["anthropic-ratelimit-requests-reset"]);
        Assert.Equal("40000", headers["anthropic-ratelimit-input-tokens-limit"]);
        Assert.Equal("100", headers["anthropic-ratelimit-input-tokens-remaining"]);
        Assert.Equal("2026-03-01T12:01:00Z", headers["anthropic-ratelimit-input-tokens-reset"]);
        Assert.Equal("8000", headers["anthropic-ratelimit-output-tokens-limit"]);
        Assert.Equal("7000", headers["anthropic-ratelimit-output-tokens-remaining"]);
        // tokens-* reports the most restrictive token budget: the input one here.
        Assert.Equal("40000", headers["anthropic-ratelimit-tokens-limit"]);
        Assert.Equal("100", headers["anthropic-ratelimit-tokens-remaining"]);
        Assert.Equal(headers["anthropic-ratelimit-input-tokens-reset"], headers["anthropic-ratelimit-tokens-reset"]);
        Assert.True(DateTimeOffset.TryParseExact(headers["anthropic-ratelimit-tokens-reset"].ToString(), "yyyy-MM-dd'T'HH:mm:ss'Z'",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _));
    }

    [Theory]
    [InlineData(1, "1", "1")]
    [InlineData(1500, "2", "1500")]
    [InlineData(12000, "12", "12000")]
    public void WriteRetryAfter_RoundsUp(int milliseconds, string seconds, string exactMilliseconds)
    {
        var openAI = new HeaderDictionary();
        var anthropic = new HeaderDictionary();

        RateLimitHeaders.WriteRetryAfter(openAI, Provider.OpenAI, TimeSpan.FromMilliseconds(milliseconds));
        RateLimitHeaders.WriteRetryAfter(anthropic, Provider.Anthropic, TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(seconds, openAI["retry-after"]);
        Assert.Equal(exactMilliseconds, openAI["retry-after-ms"]);
        Assert.Equal(seconds, anthropic["retry-after"]);
        Assert.False(anthropic.ContainsKey("retry-after-ms"));
    }

    [Fact]
    public void WriteRetryAfter_WhenWaitingCannotHelp_WritesNothing()
    {
        var headers = new HeaderDictionary();

        RateLimitHeaders.WriteRetryAfter(headers, Provider.OpenAI, TimeSpan.Zero);

        Assert.Empty(headers);
    }

    private static RateLimitSnapshot Snapshot(
        DimensionState? requests = null, DimensionState? tokens = null, DimensionState? input = null, DimensionState? output = null) =>
        new([requests, tokens, input, output], Now);
}
