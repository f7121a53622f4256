using CsCheck;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class RateLimitHeadersTests
{
    [Theory]
    [InlineData("2", 2_000)]
    [InlineData("0", 0)]
    [InlineData(" 30 ", 30_000)]
    [InlineData("1.5", 1_500)]
    [InlineData("0.25", 250)]
    [InlineData("20.000", 20_000)]
    [InlineData("-5", 0)]
    [InlineData("-0.5", 0)]
    public void ParseRetryAfter_WhenSeconds_ReadsWholeAndFractionalAndClampsNegativeToZero(string value, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RateLimitHeaders.ParseRetryAfter(value, Now));
    }

    [Theory]
    [InlineData("Thu, 01 Jan 2026 12:01:30 GMT", 90)]            // RFC 1123
    [InlineData("Thursday, 01-Jan-26 12:00:10 GMT", 10)]         // RFC 850
    [InlineData("Thu Jan  1 12:00:05 2026", 5)]                  // asctime
    [InlineData("Thu, 01 Jan 2026 11:59:00 GMT", 0)]             // already past
    public void ParseRetryAfter_WhenHttpDate_ReadsTheWaitFromNow(string value, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), RateLimitHeaders.ParseRetryAfter(value, Now));
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("1e3")]
    [InlineData("Infinity")]
    [InlineData("NaN")]
    [InlineData("1.2.3")]
    [InlineData("--1")]
    [InlineData("2s")]
    [InlineData("0x10")]
    [InlineData("Thu, 32 Jan 2026 12:00:00 GMT")]
    public void ParseRetryAfter_WhenGarbage_GivesNull(string value)
    {
        Assert.Null(RateLimitHeaders.ParseRetryAfter(value, Now));
    }

    [Fact]
    public void ParseRetryAfter_WhenAbsurdlyLarge_ClampsToMaxWait()
    {
        Assert.Equal(RateLimitHeaders.MaxWait, RateLimitHeaders.ParseRetryAfter("99999999999999999999999", Now));
        Assert.Equal(RateLimitHeaders.MaxWait, RateLimitHeaders.ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", Now));
    }

    [Theory]
    [InlineData("1500", 1_500)]
    [InlineData("20", 20)]
    [InlineData("0", 0)]
    [InlineData("2.5", 2.5)]
    [InlineData("-3", 0)]
    public void ParseMilliseconds_ReadsMillisecondsAndClampsNegativeToZero(string value, double expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RateLimitHeaders.ParseMilliseconds(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ms")]
    [InlineData("1500ms")]
    [InlineData("abc")]
    public void ParseMilliseconds_WhenGarbage_GivesNull(string value)
    {
        Assert.Null(RateLimitHeaders.ParseMilliseconds(value));
    }

    [Theory]
    [InlineData("30000", 30000L)]
    [InlineData(" 499 ", 499L)]
    [InlineData("-4", -4L)]
    [InlineData("12.5", null)]
    [InlineData("lots", null)]
    [InlineData("99999999999999999999", null)]
    public void ParseCount_ReadsWholeNumbersOnly(string value, long? expected)
    {
        Assert.Equal(expected, RateLimitHeaders.ParseCount(value));
    }

    [Theory]
    [InlineData("2026-01-01T12:00:30Z", 30_000)]
    [InlineData("2026-01-01T12:00:30.250Z", 30_250)]
    [InlineData("2026-01-01T14:00:30+02:00", 30_000)]
    [InlineData("2026-01-01 12:00:30Z", 30_000)]
    public void ParseInstant_ReadsRfc3339(string value, double expectedMsAfterNow)
    {
        Assert.Equal(Now.AddMilliseconds(expectedMsAfterNow), RateLimitHeaders.ParseInstant(value));
    }

    [Fact]
    public void ParseInstant_WhenMoreThanSevenFractionalDigits_KeepsTicks()
    {
        Assert.Equal(Now.AddSeconds(30).AddTicks(1_234_567), RateLimitHeaders.ParseInstant("2026-01-01T12:00:30.123456789Z"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tomorrow")]
    [InlineData("2026-13-01T00:00:00Z")]
    [InlineData("1767268830")]
    [InlineData("Thu, 01 Jan 2026 12:00:30 GMT")]
    public void ParseInstant_WhenGarbage_GivesNull(string value)
    {
        Assert.Null(RateLimitHeaders.ParseInstant(value));
    }

    [Theory]
    [InlineData("6m0s", 360_000)]
    [InlineData("120ms", 120)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0s", 0)]
    [InlineData("1h2m3.5s", 3_723_500)]
    public void ParseOpenAIDuration_ReadsGoDurations(string value, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RateLimitHeaders.ParseOpenAIDuration(value));
    }

    [Theory]
    [InlineData("17", 17_000.0)]           // a compatible server's bare seconds
    [InlineData("0.5", 500.0)]
    [InlineData("1767268830", 30_000.0)]   // a Unix time: Now + 30 s
    public void ParseResetDuration_WhenBareNumber_ReadsSecondsOrUnixTime(string value, double expectedMsAfterNow)
    {
        Assert.Equal(Now.AddMilliseconds(expectedMsAfterNow), RateLimitHeaders.ParseResetDuration(value, Now));
    }

    [Fact]
    public void Parse_OpenAIHeaders_ReadsBothBudgetsWithResetsFromNow()
    {
        var info = RateLimitHeaders.Parse(Headers(
            ("x-ratelimit-limit-requests", "500"),
            ("x-ratelimit-remaining-requests", "499"),
            ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-limit-tokens", "30000"),
            ("x-ratelimit-remaining-tokens", "29000"),
            ("x-ratelimit-reset-tokens", "2s")), Now);

        Assert.Null(info.RetryAfter);
        Assert.Equal(new BudgetHeader(500, 499, Now.AddMilliseconds(120)), info.Requests);
        Assert.Equal(new BudgetHeader(30000, 29000, Now.AddSeconds(2)), info.Tokens);
        Assert.True(info.InputTokens.IsEmpty);
        Assert.True(info.OutputTokens.IsEmpty);
    }

    [Fact]
    public void Parse_PerDayAndPerMinuteHeaders_AsCerebrasSendsThem()
    {
        var info = RateLimitHeaders.Parse(Headers(
            ("x-ratelimit-limit-requests-day", "14400"),
            ("x-ratelimit-remaining-requests-day", "14370"),
            ("x-ratelimit-reset-requests-day", "33011.5"),
            ("x-ratelimit-limit-tokens-minute", "60000"),
            ("x-ratelimit-remaining-tokens-minute", "59000"),
            ("x-ratelimit-reset-tokens-minute", "11.5"),
            ("x-ratelimit-limit-tokens-day", "1000000"),
            ("x-ratelimit-remaining-tokens-day", "999000"),
            ("x-ratelimit-reset-tokens-day", "33011.5")), Now);

        Assert.Equal(new BudgetHeader(14400, 14370, Now.AddSeconds(33011.5)), info.RequestsPerDay);
        Assert.Equal(new BudgetHeader(1_000_000, 999_000, Now.AddSeconds(33011.5)), info.TokensPerDay);
        Assert.Equal(new BudgetHeader(60000, 59000, Now.AddSeconds(11.5)), info.Tokens);
        Assert.True(info.Requests.IsEmpty);
    }

    [Fact]
    public void Parse_AnthropicHeaders_ReadsAllFourBudgetsAsInstants()
    {
        var info = RateLimitHeaders.Parse(Headers(
            ("retry-after", "27"),
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "49"),
            ("anthropic-ratelimit-requests-reset", "2026-01-01T12:00:01Z"),
            ("anthropic-ratelimit-tokens-limit", "90000"),
            ("anthropic-ratelimit-tokens-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", "2026-01-01T12:00:27Z"),
            ("anthropic-ratelimit-input-tokens-limit", "50000"),
            ("anthropic-ratelimit-input-tokens-remaining", "0"),
            ("anthropic-ratelimit-input-tokens-reset", "2026-01-01T12:00:27Z"),
            ("anthropic-ratelimit-output-tokens-limit", "10000"),
            ("anthropic-ratelimit-output-tokens-remaining", "8000"),
            ("anthropic-ratelimit-output-tokens-reset", "2026-01-01T12:00:12Z")), Now);

        Assert.Equal(TimeSpan.FromSeconds(27), info.RetryAfter);
        Assert.Equal(new BudgetHeader(50, 49, Now.AddSeconds(1)), info.Requests);
        Assert.Equal(new BudgetHeader(90000, 0, Now.AddSeconds(27)), info.Tokens);
        Assert.Equal(new BudgetHeader(50000, 0, Now.AddSeconds(27)), info.InputTokens);
        Assert.Equal(new BudgetHeader(10000, 8000, Now.AddSeconds(12)), info.OutputTokens);
        Assert.Equal(Now.AddSeconds(27), info.LatestExhaustedReset);
    }

    [Fact]
    public void Parse_AnAnthropicResetFarAhead_IsHeldToTheLongestWait()
    {
        var info = RateLimitHeaders.Parse(Headers(
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-requests-remaining", "0"),
            ("anthropic-ratelimit-requests-reset", "9999-12-31T23:59:59Z")), Now);

        Assert.Equal(new BudgetHeader(50, 0, Now + RateLimitHeaders.MaxWait), info.Requests);
    }

    [Fact]
    public void Parse_WhenRetryAfterMsAndRetryAfter_TheMillisecondsWin()
    {
        var info = RateLimitHeaders.Parse(Headers(("retry-after", "2"), ("retry-after-ms", "1350")), Now);

        Assert.Equal(TimeSpan.FromMilliseconds(1350), info.RetryAfter);
    }

    [Fact]
    public void Parse_WhenAzureSendsMsAndSeconds_XMsRetryAfterMsWinsOverRetryAfter()
    {
        var info = RateLimitHeaders.Parse(Headers(("retry-after", "6"), ("x-ms-retry-after-ms", "5800")), Now);

        Assert.Equal(TimeSpan.FromMilliseconds(5800), info.RetryAfter);
    }

    [Fact]
    public void Parse_WhenTheSpecificHeaderIsGarbage_FallsBackToRetryAfter()
    {
        var info = RateLimitHeaders.Parse(Headers(("retry-after", "3"), ("retry-after-ms", "soon")), Now);

        Assert.Equal(TimeSpan.FromSeconds(3), info.RetryAfter);
    }

    [Fact]
    public void Parse_WhenAHeaderRepeats_TheFirstReadableValueWins()
    {
        var info = RateLimitHeaders.Parse(Headers(("x-ratelimit-remaining-tokens", "n/a"), ("x-ratelimit-remaining-tokens", "120")), Now);

        Assert.Equal(120, info.Tokens.Remaining);
    }

    [Fact]
    public void Parse_WhenRemainingIsNegative_ReadsZeroAndNegativeLimitIsIgnored()
    {
        var info = RateLimitHeaders.Parse(Headers(("x-ratelimit-remaining-tokens", "-350"), ("x-ratelimit-limit-tokens", "-1")), Now);

        Assert.Equal(0, info.Tokens.Remaining);
        Assert.Null(info.Tokens.Limit);
    }

    [Fact]
    public void Parse_WhenEveryHeaderIsGarbage_GivesNullsAndDoesNotThrow()
    {
        var info = RateLimitHeaders.Parse(Headers([.. AllHeaderNames.Select(name => (name, "¯\\_(ツ)_/¯"))]), Now);

        Assert.Equal(RateLimitInfo.None, info);
    }

    [Fact]
    public void Parse_WithNoHeaders_GivesNone()
    {
        Assert.Equal(RateLimitInfo.None, RateLimitHeaders.Parse(Headers(), Now));
    }

    [Fact]
    public void EveryParser_OnAnyString_NeverThrowsAndNeverGivesANegativeWait()
    {
        AnyText.Sample(text =>
        {
            Assert.False(RateLimitHeaders.ParseRetryAfter(text, Now) < TimeSpan.Zero);
            Assert.False(RateLimitHeaders.ParseMilliseconds(text) < TimeSpan.Zero);
            Assert.False(RateLimitHeaders.ParseOpenAIDuration(text) < TimeSpan.Zero);
            Assert.False(RateLimitHeaders.ParseRetryAfter(text, Now) > RateLimitHeaders.MaxWait);
            _ = RateLimitHeaders.ParseCount(text);
            _ = RateLimitHeaders.ParseInstant(text);
            _ = RateLimitHeaders.ParseResetDuration(text, Now);
        }, iter: 20_000);
    }

    [Fact]
    public void Parse_WithAnyValueInEveryHeader_NeverThrows()
    {
        Gen.Select(AnyText, Gen.Int[0, AllHeaderNames.Length - 1]).Array[1, 8].Sample(values =>
        {
            var headers = new HttpResponseMessage().Headers;
            foreach (var (text, index) in values)
            {
                headers.TryAddWithoutValidation(AllHeaderNames[index], text);
            }

            var info = RateLimitHeaders.Parse(headers, Now);

            Assert.False(info.RetryAfter < TimeSpan.Zero);
            Assert.False(info.Tokens.Remaining < 0);
        }, iter: 5_000);
    }
}
