using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class ProviderErrorTests
{
    [Fact]
    public void Read_OpenAIShape_ReadsMessageTypeAndCode()
    {
        var error = ProviderError.Read(Utf8(ProviderBodies.OpenAITokensPerMinute));

        Assert.StartsWith("Rate limit reached for gpt-4o", error.Message);
        Assert.Equal("tokens", error.Type);
        Assert.Equal("rate_limit_exceeded", error.Code);
        Assert.Equal("rate_limit_exceeded", error.Name);
    }

    [Fact]
    public void Read_AnthropicShape_ReadsTheInnerType()
    {
        var error = ProviderError.Read(Utf8(ProviderBodies.AnthropicOverloaded));

        Assert.Equal(new ProviderError("Overloaded", "overloaded_error", null), error);
        Assert.Equal("overloaded_error", error.Name);
    }

    [Theory]
    [InlineData("""{"error":"model not loaded"}""", "model not loaded")]
    [InlineData("""{"message":"upstream timed out","code":504}""", "upstream timed out")]
    [InlineData("""{"detail":"Not authenticated"}""", "Not authenticated")]
    public void Read_LooserShapesOfCompatibleServers_FindTheMessage(string body, string expected)
    {
        Assert.Equal(expected, ProviderError.Read(Utf8(body)).Message);
    }

    [Fact]
    public void Read_NumericAzureCode_IsReadAsText()
    {
        Assert.Equal("429", ProviderError.Read(Utf8("""{"error":{"code":429,"message":"Too many requests"}}""")).Code);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<html>502</html>")]
    [InlineData("[]")]
    [InlineData("""{"error":null}""")]
    [InlineData("""{"detail":[{"loc":["body","n"],"msg":"bad"}]}""")]
    [InlineData("""{"error":{"message":"\uD800"}}""")]
    public void Read_WhenNoReadableError_GivesEmpty(string body)
    {
        Assert.Null(ProviderError.Read(Utf8(body.Replace("\uD800", "\\uD800", StringComparison.Ordinal))).Message);
    }
}
