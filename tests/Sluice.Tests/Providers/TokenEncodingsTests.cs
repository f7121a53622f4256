using Sluice.Providers;

namespace Sluice.Tests.Providers;

public sealed class TokenEncodingsTests
{
    [Theory]
    [InlineData("gpt-4o", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-4o-mini-2024-07-18", nameof(TokenEncoding.O200kBase))]
    [InlineData("chatgpt-4o-latest", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-4.1-nano", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-4.5-preview", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-5", nameof(TokenEncoding.O200kBase))]
    [InlineData("o1-mini", nameof(TokenEncoding.O200kBase))]
    [InlineData("o3", nameof(TokenEncoding.O200kBase))]
    [InlineData("o4-mini", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-oss-120b", nameof(TokenEncoding.O200kBase))]
    [InlineData("GPT-4O", nameof(TokenEncoding.O200kBase))]
    [InlineData("openai/gpt-4o", nameof(TokenEncoding.O200kBase))]
    [InlineData("ft:gpt-4o-mini-2024-07-18:my-org::9abc", nameof(TokenEncoding.O200kBase))]
    [InlineData("gpt-4", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("gpt-4-turbo-2024-04-09", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("gpt-3.5-turbo", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("gpt-35-turbo", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("text-embedding-3-small", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("text-embedding-ada-002", nameof(TokenEncoding.Cl100kBase))]
    [InlineData("claude-sonnet-4-5", nameof(TokenEncoding.Approximate))]
    [InlineData("claude-3-haiku-20240307", nameof(TokenEncoding.Approximate))]
    [InlineData("llama-3.1-70b", nameof(TokenEncoding.Approximate))]
    [InlineData("", nameof(TokenEncoding.Approximate))]
    [InlineData(null, nameof(TokenEncoding.Approximate))]
    public void ForModel_ChoosesByFamily(string? model, string expected)
    {
        Assert.Equal(Enum.Parse<TokenEncoding>(expected), TokenEncodings.ForModel(model));
    }

    [Fact]
    public void Tokenizer_IsSharedAndAbsentForTheApproximation()
    {
        Assert.Same(TokenEncodings.Tokenizer(TokenEncoding.O200kBase), TokenEncodings.Tokenizer(TokenEncoding.O200kBase));
        Assert.NotSame(TokenEncodings.Tokenizer(TokenEncoding.O200kBase), TokenEncodings.Tokenizer(TokenEncoding.Cl100kBase));
        Assert.Null(TokenEncodings.Tokenizer(TokenEncoding.Approximate));
    }

    [Fact]
    public async Task Tokenizer_BuiltFromManyThreadsAtOnce_CountsAlike()
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            TokenEncodings.Tokenizer(TokenEncoding.Cl100kBase)!.CountTokens("The quick brown fox jumps over the lazy dog."))))
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.All(counts, count => Assert.Equal(10, count));
    }
}
