using CsCheck;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class OpenAIDurationTests
{
    [Theory]
    [InlineData("6m0s", 360_000.0)]
    [InlineData("1s", 1_000.0)]
    [InlineData("1.5s", 1_500.0)]
    [InlineData("120ms", 120.0)]
    [InlineData("20ms", 20.0)]
    [InlineData("0s", 0.0)]
    [InlineData("0", 0.0)]
    [InlineData("1h2m3.5s", 3_723_500.0)]
    [InlineData("59.123s", 59_123.0)]
    [InlineData("1m30s", 90_000.0)]
    [InlineData("2m59.56s", 179_560.0)]
    [InlineData("1h0m0s", 3_600_000.0)]
    [InlineData("500us", 0.5)]
    [InlineData("250µs", 0.25)]
    [InlineData("1000000ns", 1.0)]
    [InlineData(".5s", 500.0)]
    [InlineData("+2s", 2_000.0)]
    [InlineData(" 3s ", 3_000.0)]
    public void Parse_ReadsGoDurations(string value, double expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), OpenAIDuration.Parse(value));
    }

    [Theory]
    [InlineData("-1s")]
    [InlineData("-6m0s")]
    public void Parse_WhenNegative_GivesZero(string value)
    {
        Assert.Equal(TimeSpan.Zero, OpenAIDuration.Parse(value));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("s")]
    [InlineData("5")]
    [InlineData("6m0")]
    [InlineData("1x")]
    [InlineData("1.2.3s")]
    [InlineData(".s")]
    [InlineData("1 s")]
    [InlineData("m5")]
    [InlineData("-")]
    [InlineData("1d")]
    [InlineData("1S")]
    [InlineData(null)]
    public void Parse_WhenNotADuration_GivesNull(string? value)
    {
        Assert.Null(OpenAIDuration.Parse(value));
    }

    [Fact]
    public void Parse_WhenAbsurdlyLong_ClampsToMaxWait()
    {
        Assert.Equal(RateLimitHeaders.MaxWait, OpenAIDuration.Parse("99999999h"));
        Assert.Equal(RateLimitHeaders.MaxWait, OpenAIDuration.Parse(new string('9', 400) + "s"));
    }

    [Fact]
    public void Parse_OnAnyString_NeverThrowsAndStaysWithinZeroAndMaxWait()
    {
        AnyText.Sample(text =>
        {
            if (OpenAIDuration.Parse(text) is { } duration)
            {
                Assert.InRange(duration, TimeSpan.Zero, RateLimitHeaders.MaxWait);
            }
        }, iter: 20_000);
    }
}
