using CsCheck;
using Sluice.Cli.Common;
using Sluice.Text;

namespace Sluice.Cli.Tests.Common;

/// <summary>The command line's durations: the forms help shows are the forms it reads.</summary>
public sealed class DurationTextTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(120, "120ms")]
    [InlineData(999, "999ms")]
    [InlineData(1000, "1s")]
    [InlineData(1500, "1.5s")]
    [InlineData(7660, "7.66s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(360_000, "6m0s")]
    [InlineData(90_500, "1m30.5s")]
    [InlineData(3_600_000, "1h0m0s")]
    [InlineData(3_723_004, "1h2m3.004s")]
    public void Format_WritesOpenAIStyle(long milliseconds, string expected) =>
        Assert.Equal(expected, DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Format_RoundsUpToTheMillisecond() =>
        Assert.Equal("121ms", DurationText.Format(TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond * 120 + 1)));

    [Theory]
    [InlineData("0", 0)]
    [InlineData("500ms", 500)]
    [InlineData("10s", 10_000)]
    [InlineData("1.5s", 1500)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData(" 6m0s ", 360_000)]
    public void TryParse_ReadsDurations(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("s")]
    [InlineData("10x")]
    [InlineData("-1s")]
    [InlineData("1d")]
    [InlineData("99999999999999h")]
    public void TryParse_RefusesOtherText(string? text) => Assert.False(DurationText.TryParse(text, out _));

    [Fact]
    public void Format_ThenParse_GivesBackTheMilliseconds() =>
        Gen.Long[0, 10L * 24 * 3600 * 1000].Sample(milliseconds =>
        {
            Assert.True(DurationText.TryParse(DurationText.Format(TimeSpan.FromMilliseconds(milliseconds)), out var parsed));
            Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), parsed);
        });
}
