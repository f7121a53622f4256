using CsCheck;
using Sluice.Providers;

namespace Sluice.Tests.Providers;

public sealed class ErrorTextTests
{
    [Fact]
    public void Describe_GivesStatusCodeAndMessage()
    {
        Assert.Equal(
            "HTTP 429 (insufficient_quota): You exceeded your current quota, please check your plan and billing details.",
            ErrorText.Describe(429, new ProviderError("You exceeded your current quota, please check your plan and billing details.", "insufficient_quota", "insufficient_quota")));
    }

    [Fact]
    public void Describe_WithoutAMessage_SaysSo()
    {
        Assert.Equal("HTTP 502 with no error message in the body", ErrorText.Describe(502, default));
        Assert.Equal("HTTP 529 (overloaded_error) with no error message in the body", ErrorText.Describe(529, new ProviderError(null, "overloaded_error", null)));
    }

    [Theory]
    [InlineData("Incorrect API key provided: sk-proj-abc123DEF456ghi789. You can find your API key", "Incorrect API key provided: [redacted]. You can find your API key")]
    [InlineData("Incorrect API key provided: sk-proj-****************abcd.", "Incorrect API key provided: [redacted].")]
    [InlineData("key sk-ant-api03-AbCdEf_gh-IJ rejected", "key [redacted] rejected")]
    [InlineData("header was Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc, sorry", "header was Bearer [redacted], sorry")]
    [InlineData("Azure key 0123456789abcdef0123456789abcdef is invalid", "Azure key [redacted] is invalid")]
    [InlineData("task-runner failed", "task-runner failed")]
    [InlineData("unsupported_country_region_territory", "unsupported_country_region_territory")]
    public void Clean_RedactsWhatLooksLikeACredential(string text, string expected)
    {
        Assert.Equal(expected, ErrorText.Clean(text, 300));
    }

    [Fact]
    public void Clean_FoldsLineBreaksAndRunsOfSpaces()
    {
        Assert.Equal("line one line two", ErrorText.Clean("  line one\r\n\t  line two \n", 300));
    }

    [Fact]
    public void Clean_TruncatesWithAnEllipsisAndNeverSplitsASurrogatePair()
    {
        var words = string.Concat(Enumerable.Repeat("word ", 59)) + "word";   // 299 characters
        var text = words + "😀" + " and more";

        var cleaned = ErrorText.Clean(text, ErrorText.MaxMessageLength);

        Assert.Equal(words + "…", cleaned);
    }

    [Fact]
    public void Clean_AnyText_NeverThrowsAndStaysShort()
    {
        Gen.String.Sample(text => Assert.True(ErrorText.Clean(text, 300).Length <= 301), iter: 10_000);
    }
}
