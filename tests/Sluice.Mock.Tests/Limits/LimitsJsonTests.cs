using System.Text.Json;
using Sluice.Mock.Limits;

namespace Sluice.Mock.Tests.Limits;

public class LimitsJsonTests
{
    private static readonly MockLimits Current = new() { RequestsPerMinute = 600, TokensPerMinute = 90000 };

    [Fact]
    public void TryApply_ReplacesPresentFields_KeepsAbsentOnes_AndNullRemoves()
    {
        using var body = JsonDocument.Parse("""{"rpm":60,"tpm":null,"concurrency":4,"burst":"500ms"}""");

        Assert.True(LimitsJson.TryApply(body.RootElement, Current, out var updated, out _));

        Assert.Equal(new MockLimits { RequestsPerMinute = 60, MaxConcurrency = 4, Burst = TimeSpan.FromMilliseconds(500) }, updated);
    }

    [Theory]
    [InlineData("""{"rpm":0}""", "'rpm' must be a positive integer or null.")]
    [InlineData("""{"rpm":"60"}""", "'rpm' must be a positive integer or null.")]
    [InlineData("""{"burst":"soon"}""", "'burst' must be a duration")]
    [InlineData("""{"burst":"2m"}""", "Burst must be more than 0 and at most 1 minute")]
    [InlineData("""{"rmp":60}""", "Unknown field 'rmp'")]
    [InlineData("""[1]""", "The body must be a JSON object")]
    public void TryApply_RefusesInvalidUpdates(string json, string message)
    {
        using var body = JsonDocument.Parse(json);

        Assert.False(LimitsJson.TryApply(body.RootElement, Current, out var updated, out var error));

        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Same(Current, updated);
    }
}
