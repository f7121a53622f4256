using Sluice.Cli.Common;

namespace Sluice.Cli.Tests.Common;

/// <summary>The values <c>--max-spend</c>, <c>--cache-max-size</c> and <c>--cache-max-age</c> take, and how amounts read.</summary>
public sealed class SpendAndCacheTextTests
{
    [Theory]
    [InlineData("5", 5)]
    [InlineData("5.00", 5)]
    [InlineData("0.25", 0.25)]
    [InlineData("$12.5", 12.5)]
    [InlineData(" 7 ", 7)]
    public void Amount_Parses(string text, double expected)
    {
        Assert.True(SpendAmountText.TryParsePositive(text, out decimal amount));
        Assert.Equal((decimal)expected, amount);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("5,00")]
    [InlineData("five")]
    [InlineData("")]
    [InlineData("1e3")]
    [InlineData("2000000000")]
    public void Amount_RefusesWhatIsNotAPositiveAmount(string text) =>
        Assert.False(SpendAmountText.TryParsePositive(text, out _));

    [Theory]
    [InlineData(4.27, "$4.27")]
    [InlineData(1234.5, "$1,234.50")]
    [InlineData(0.05, "$0.05")]
    [InlineData(0.0123, "$0.0123")]
    [InlineData(0.000123, "$0.000123")]
    [InlineData(0, "$0.00")]
    public void Amount_Formats_SmallAmountsWithTheirDigits(double amount, string expected) =>
        Assert.Equal(expected, SpendAmountText.Format((decimal)amount));

    [Theory]
    [InlineData("1GB", 1L << 30)]
    [InlineData("1gib", 1L << 30)]
    [InlineData("500MB", 500L << 20)]
    [InlineData("1.5GB", 3L << 29)]
    [InlineData("800KB", 800L << 10)]
    [InlineData("4096", 4096)]
    public void Size_Parses(string text, long expected)
    {
        Assert.True(ByteSizeText.TryParse(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("0MB")]
    [InlineData("-1GB")]
    [InlineData("big")]
    [InlineData("1XB")]
    [InlineData("")]
    public void Size_RefusesWhatIsNotASize(string text) => Assert.False(ByteSizeText.TryParse(text, out _));

    [Theory]
    [InlineData("30d", 30 * 24.0)]
    [InlineData("1d12h", 36.0)]
    [InlineData("12h", 12.0)]
    [InlineData("90m", 1.5)]
    public void Age_Parses_DaysAndTheSharedDurations(string text, double hours)
    {
        Assert.True(LongDurationText.TryParse(text, out var age));
        Assert.Equal(TimeSpan.FromHours(hours), age);
    }

    [Theory]
    [InlineData("d")]
    [InlineData("30days")]
    [InlineData("1w")]
    [InlineData("")]
    public void Age_RefusesWhatIsNotADuration(string text) => Assert.False(LongDurationText.TryParse(text, out _));

    [Fact]
    public void Age_Formats_InDays() => Assert.Equal("30d", LongDurationText.Format(TimeSpan.FromDays(30)));
}
