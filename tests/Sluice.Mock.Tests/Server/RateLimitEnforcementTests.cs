using System.Globalization;
using System.Net;
using System.Text.Json;
using Sluice.Mock.Tests.Support;
using Sluice.Text;

namespace Sluice.Mock.Tests.Server;

public class RateLimitEnforcementTests
{
    [Fact]
    public async Task ChatCompletions_TheNPlusOnethRequestInTheWindow_Gets429WithHeaders()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 5, Burst = TimeSpan.FromMinutes(1) });

        for (var i = 1; i <= 5; i++)
        {
            using var ok = await mock.SendAsync(RunningMock.Chat());
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("5", ok.Header("x-ratelimit-limit-requests"));
            Assert.Equal((5 - i).ToString(CultureInfo.InvariantCulture), ok.Header("x-ratelimit-remaining-requests"));
            Assert.Equal(DurationText.Format(TimeSpan.FromSeconds(12 * i)), ok.Header("x-ratelimit-reset-requests"));
        }

        using var refused = await mock.SendAsync(RunningMock.Chat());

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("12", refused.Header("retry-after"));
        Assert.Equal("12000", refused.Header("retry-after-ms"));
        Assert.Equal("5", refused.Header("x-ratelimit-limit-requests"));
        Assert.Equal("0", refused.Header("x-ratelimit-remaining-requests"));
        Assert.Equal("1m0s", refused.Header("x-ratelimit-reset-requests"));
        var error = (await refused.JsonAsync()).GetProperty("error");
        Assert.Equal("requests", error.GetProperty("type").GetString());
        Assert.Equal("rate_limit_exceeded", error.GetProperty("code").GetString());
        Assert.StartsWith("Rate limit reached for gpt-4o-mini", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatCompletions_AfterWaitingRetryAfter_IsAdmitted()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 60 });
        using (var first = await mock.SendAsync(RunningMock.Chat()))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var refused = await mock.SendAsync(RunningMock.Chat());
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        mock.Time!.Advance(TimeSpan.FromMilliseconds(int.Parse(refused.Header("retry-after-ms")!, CultureInfo.InvariantCulture)));

        using var admitted = await mock.SendAsync(RunningMock.Chat());
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
    }

    [Fact]
    public async Task ChatCompletions_OverTheTokenBudget_Gets429OfTypeTokens()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { TokensPerMinute = 600, Burst = TimeSpan.FromMinutes(1) });

        // "Hi" is one token by the estimate, plus an output cap of 99: 100 tokens a request.
        for (var i = 1; i <= 6; i++)
        {
            using var ok = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 99));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal((600 - (100 * i)).ToString(CultureInfo.InvariantCulture), ok.Header("x-ratelimit-remaining-tokens"));
        }

        using var refused = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 99));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal("tokens", (await refused.JsonAsync()).GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("10", refused.Header("retry-after"));
        Assert.Equal("600", refused.Header("x-ratelimit-limit-tokens"));
        Assert.Equal("0", refused.Header("x-ratelimit-remaining-tokens"));
        Assert.Equal("1m0s", refused.Header("x-ratelimit-reset-tokens"));
        Assert.Null(refused.Header("x-ratelimit-limit-requests"));
    }

    [Fact]
    public async Task Headers_ParseBackToTheConfiguredBudget()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 600, TokensPerMinute = 90_000 });

        using var response = await mock.SendAsync(RunningMock.Chat("Hello there", maxTokens: 100));

        // Hello there: 11 characters, 3 tokens, plus 100 for the output cap; the bucket holds one second's worth.
        Assert.Equal(600, int.Parse(response.Header("x-ratelimit-limit-requests")!, CultureInfo.InvariantCulture));
        Assert.Equal(90_000, int.Parse(response.Header("x-ratelimit-limit-tokens")!, CultureInfo.InvariantCulture));
        Assert.Equal(9, int.Parse(response.Header("x-ratelimit-remaining-requests")!, CultureInfo.InvariantCulture));
        Assert.Equal(1500 - 103, int.Parse(response.Header("x-ratelimit-remaining-tokens")!, CultureInfo.InvariantCulture));
        Assert.True(DurationText.TryParse(response.Header("x-ratelimit-reset-requests"), out var requestsReset));
        Assert.True(DurationText.TryParse(response.Header("x-ratelimit-reset-tokens"), out var tokensReset));
        Assert.Equal(TimeSpan.FromMilliseconds(100), requestsReset);
        Assert.Equal(TimeSpan.FromMilliseconds(Math.Ceiling(103 / 1.5)), tokensReset);
    }

    [Fact]
    public async Task Messages_OverTheBudget_Gets429RateLimitErrorWithAnthropicHeaders()
    {
        // Replies as long as their cap, so the output charged at admission stands (nothing is refunded).
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.ReplyTokens = 1000;
            o.Limits = new MockLimits { RequestsPerMinute = 2, InputTokensPerMinute = 1000, OutputTokensPerMinute = 500, Burst = TimeSpan.FromMinutes(1) };
        });

        for (var i = 0; i < 2; i++)
        {
            using var ok = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 100));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var refused = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 100));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var body = await refused.JsonAsync();
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(refused.Header("request-id"), body.GetProperty("request_id").GetString());
        Assert.Equal("30", refused.Header("retry-after"));
        Assert.Null(refused.Header("retry-after-ms"));
        Assert.Equal("2", refused.Header("anthropic-ratelimit-requests-limit"));
        Assert.Equal("0", refused.Header("anthropic-ratelimit-requests-remaining"));
        Assert.Equal("2026-01-01T00:01:00Z", refused.Header("anthropic-ratelimit-requests-reset"));
        Assert.Equal("1000", refused.Header("anthropic-ratelimit-input-tokens-limit"));
        Assert.Equal("998", refused.Header("anthropic-ratelimit-input-tokens-remaining"));
        Assert.Equal("500", refused.Header("anthropic-ratelimit-output-tokens-limit"));
        Assert.Equal("300", refused.Header("anthropic-ratelimit-output-tokens-remaining"));
        Assert.Equal("500", refused.Header("anthropic-ratelimit-tokens-limit"));
        Assert.Equal("300", refused.Header("anthropic-ratelimit-tokens-remaining"));
        Assert.Null(refused.Header("x-ratelimit-limit-requests"));
    }

    [Fact]
    public async Task Messages_OverTheOutputTokenBudget_IsRefusedByIt()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.ReplyTokens = 1000;
            o.Limits = new MockLimits { OutputTokensPerMinute = 100, Burst = TimeSpan.FromMinutes(1) };
        });
        using (var first = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 60)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using var refused = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 60));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("output tokens per minute", (await refused.JsonAsync()).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, mock.Server.GetStats().Rejected["rate_limit_output_tokens"]);
    }

    [Fact]
    public async Task Messages_AShortAnswer_GivesTheUnusedOutputCapBack()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.ReplyTokens = 20;
            o.Limits = new MockLimits { OutputTokensPerMinute = 100, Burst = TimeSpan.FromMinutes(1) };
        });
        using (var first = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 60)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("40", first.Header("anthropic-ratelimit-output-tokens-remaining"));
        }

        // Charged 60 at admission, adjusted to the 20 produced when the answer ended: 80 are left, so 60 fit again.
        using var second = await mock.SendAsync(RunningMock.Messages("Hi", maxTokens: 60));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("20", second.Header("anthropic-ratelimit-output-tokens-remaining"));
        Assert.Equal(0, mock.Server.GetStats().BudgetViolations.Total);
    }

    [Fact]
    public async Task Request_OverTheWholeMinuteBudget_GetsRequestTooLarge()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { TokensPerMinute = 100 });

        using var refused = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 200));

        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        var error = (await refused.JsonAsync()).GetProperty("error");
        Assert.StartsWith("Request too large for gpt-4o-mini", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("tokens", error.GetProperty("type").GetString());
        Assert.Null(refused.Header("retry-after"));
        Assert.Equal(1, mock.Server.GetStats().Rejected["request_too_large"]);
    }

    [Fact]
    public async Task Request_LargerThanTheBurstButWithinTheMinute_IsAdmittedFromAFullBucket()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { TokensPerMinute = 600 });

        using var admitted = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 499));
        using var next = await mock.SendAsync(RunningMock.Chat("Hi", maxTokens: 1));

        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, next.StatusCode);
        // The 500-token request left the 10-token bucket 490 in debt: 492 tokens at 10 a second.
        Assert.Equal("49200", next.Header("retry-after-ms"));
    }

    [Fact]
    public async Task Concurrency_AtTheLimit_Gets429UntilARequestFinishes()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.Limits = new MockLimits { MaxConcurrency = 1 };
            o.Latency = TimeSpan.FromSeconds(1);
        });
        var slow = mock.SendAsync(RunningMock.Chat());
        await Bounded.UntilAsync(() => mock.Server.GetStats().PeakAdmittedInFlight == 1);

        using (var refused = await mock.SendAsync(RunningMock.Chat()))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("1", refused.Header("retry-after"));
            Assert.Contains("concurrent", (await refused.JsonAsync()).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        using (var finished = await mock.Time!.AdvanceUntilDoneAsync(slow, TimeSpan.FromSeconds(1)))
        {
            Assert.Equal(HttpStatusCode.OK, finished.StatusCode);
        }

        using var admitted = await mock.Time!.AdvanceUntilDoneAsync(mock.SendAsync(RunningMock.Chat()), TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal(1, mock.Server.GetStats().Rejected["concurrency"]);
    }

    [Fact]
    public async Task Limits_ChangeAtRunTime_ThroughPostMockLimits()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 600 });

        using var update = await mock.SendAsync(RunningMock.Raw("mock/limits", """{"rpm":60,"tpm":6000,"burst":"1m"}"""));
        var applied = await update.JsonAsync();
        using var response = await mock.SendAsync(RunningMock.Chat());

        Assert.Equal(HttpStatusCode.OK, update.StatusCode);
        Assert.Equal(60, applied.GetProperty("rpm").GetInt32());
        Assert.Equal(6000, applied.GetProperty("tpm").GetInt32());
        Assert.Equal("1m0s", applied.GetProperty("burst").GetString());
        Assert.Equal(JsonValueKind.Null, applied.GetProperty("concurrency").ValueKind);
        Assert.Equal("60", response.Header("x-ratelimit-limit-requests"));
        Assert.Equal("6000", response.Header("x-ratelimit-limit-tokens"));
        Assert.Equal(60, (await mock.GetJsonAsync("mock/limits")).GetProperty("rpm").GetInt32());
        Assert.Equal(new MockLimits { RequestsPerMinute = 60, TokensPerMinute = 6000, Burst = TimeSpan.FromMinutes(1) }, mock.Server.Limits);
    }

    [Fact]
    public async Task Limits_InvalidUpdate_IsRefusedAndChangesNothing()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 600 });

        using var update = await mock.SendAsync(RunningMock.Raw("mock/limits", """{"rpm":-5}"""));

        Assert.Equal(HttpStatusCode.BadRequest, update.StatusCode);
        Assert.Contains("'rpm'", (await update.JsonAsync()).GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(600, mock.Server.Limits.RequestsPerMinute);
    }

    [Fact]
    public async Task SetLimits_AppliesToTheNextRequest_AndValidates()
    {
        await using var mock = await RunningMock.StartAsync();

        mock.Server.SetLimits(new MockLimits { RequestsPerMinute = 1 });
        using var first = await mock.SendAsync(RunningMock.Chat());
        using var second = await mock.SendAsync(RunningMock.Chat());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Throws<ArgumentException>(() => mock.Server.SetLimits(new MockLimits { MaxConcurrency = 0 }));
    }

    [Fact]
    public async Task NoRateLimitHeaders_LeavesThemOut_ButStillEnforces()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.Limits = new MockLimits { RequestsPerMinute = 60 };
            o.RateLimitHeaders = false;
        });

        using var first = await mock.SendAsync(RunningMock.Chat());
        using var second = await mock.SendAsync(RunningMock.Chat());

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("1", second.Header("retry-after"));
        Assert.DoesNotContain(first.Headers.Concat(second.Headers), h => h.Key.StartsWith("x-ratelimit", StringComparison.OrdinalIgnoreCase));
    }
}
