using CsCheck;
using Sluice.Providers;

namespace Sluice.Tests.Providers;

public sealed class ErrorSignalsTests
{
    [Theory]
    [InlineData("Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000. Please try again in 2s. Visit https://platform.openai.com/account/rate-limits to learn more.", 2_000.0)]
    [InlineData("Please try again in 1.5s.", 1_500.0)]
    [InlineData("Please try again in 120ms.", 120.0)]
    [InlineData("Please try again in 6m0s.", 360_000.0)]
    [InlineData("Please try again in 20 seconds.", 20_000.0)]
    [InlineData("Please try again in 1 minute.", 60_000.0)]
    [InlineData("Please try again in 500 milliseconds.", 500.0)]
    [InlineData("... S0 pricing tier. Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease ...", 6_000.0)]
    [InlineData("Please Retry After 1 second", 1_000.0)]
    public void RetryHint_ReadsTheWaitAMessageSuggests(string message, double expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), ErrorSignals.RetryHint(message));
    }

    [Theory]
    [InlineData("Please try again later.")]
    [InlineData("Please try again in a moment.")]
    [InlineData("try again in")]
    [InlineData("retry after soon")]
    [InlineData("Overloaded")]
    [InlineData(null)]
    public void RetryHint_WhenTheMessageSuggestsNoWait_GivesNull(string? message)
    {
        Assert.Null(ErrorSignals.RetryHint(message));
    }

    [Theory]
    [InlineData("insufficient_quota", null, null, true)]
    [InlineData(null, "insufficient_quota", null, true)]
    [InlineData("billing_hard_limit_reached", "invalid_request_error", null, true)]
    [InlineData(null, "billing_error", null, true)]
    [InlineData("rate_limit_exceeded", "tokens", "...Visit https://platform.openai.com/account/billing to add a payment method.", false)]
    public void HasQuotaName_ReadsCodesAndTypes(string? code, string? type, string? message, bool expected)
    {
        Assert.Equal(expected, ErrorSignals.HasQuotaName(new ProviderError(message, type, code)));
    }

    [Theory]
    [InlineData("You exceeded your current quota, please check your plan and billing details.", true)]
    [InlineData("Your credit balance is too low to access the Anthropic API.", true)]
    [InlineData("You have reached your specified API usage limits.", true)]
    [InlineData("Your monthly spend limit has been reached.", true)]
    [InlineData("Out of call volume quota for OpenAI API.", true)]
    [InlineData("... https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.", false)]
    [InlineData("Overloaded", false)]
    public void HasQuotaWording_ReadsTheProvidersPhrases(string message, bool expected)
    {
        Assert.Equal(expected, ErrorSignals.HasQuotaWording(new ProviderError(message, null, null)));
    }

    [Theory]
    [InlineData(null, "rate_limit_exceeded", "x", true)]
    [InlineData("rate_limit_error", null, "x", true)]
    [InlineData(null, "429", "x", true)]
    [InlineData(null, null, "Rate limit reached for gpt-4o", true)]
    [InlineData("invalid_request_error", null, "Your credit balance is too low", false)]
    public void IsRateLimit_ReadsCodesTypesAndWording(string? type, string? code, string message, bool expected)
    {
        Assert.Equal(expected, ErrorSignals.IsRateLimit(new ProviderError(message, type, code)));
    }

    [Fact]
    public void IsRequestTooLarge_ReadsOpenAIsWording()
    {
        Assert.True(ErrorSignals.IsRequestTooLarge(new ProviderError("Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 45000.", "tokens", "rate_limit_exceeded")));
        Assert.False(ErrorSignals.IsRequestTooLarge(new ProviderError("Rate limit reached for gpt-4o", "tokens", "rate_limit_exceeded")));
    }

    [Fact]
    public void RetryHint_AnyText_NeverThrowsAndStaysWithinZeroAndMaxWait()
    {
        Gen.OneOf(Gen.String, Gen.String.Select(s => "try again in " + s), Gen.String.Select(s => "retry after " + s)).Sample(message =>
        {
            if (ErrorSignals.RetryHint(message) is { } wait)
            {
                Assert.InRange(wait, TimeSpan.Zero, RateLimitHeaders.MaxWait);
            }
        }, iter: 20_000);
    }
}
