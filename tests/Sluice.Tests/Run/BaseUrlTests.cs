using Sluice.Cli.Run;

namespace Sluice.Tests.Run;

public sealed class BaseUrlTests
{
    [Theory]
    [InlineData("https://api.openai.com", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/v1", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/v1/", "/v1/embeddings", "https://api.openai.com/v1/embeddings")]
    [InlineData("http://127.0.0.1:8000/", "/v1/chat/completions", "http://127.0.0.1:8000/v1/chat/completions")]
    [InlineData("https://gateway.example.com/openai", "/v1/chat/completions", "https://gateway.example.com/openai/v1/chat/completions")]
    [InlineData("https://gateway.example.com/openai/v1", "/v1/responses", "https://gateway.example.com/openai/v1/responses")]
    [InlineData("https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21", "/chat/completions", "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")]
    [InlineData("https://res.openai.azure.com/openai?api-version=2024-10-21", "/openai/deployments/d/chat/completions", "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21")]
    public void Join_WithOrWithoutV1_NeverDoublesIt(string baseUrl, string path, string expected)
    {
        var parsed = BaseUrl.TryParse(baseUrl, out string? problem);

        Assert.Null(problem);
        Assert.Equal(expected, BaseUrl.Join(parsed!, path).ToString());
    }

    [Theory]
    [InlineData("api.openai.com")]
    [InlineData("ftp://api.openai.com")]
    [InlineData("https://user:pass@api.openai.com/v1")]
    [InlineData("https://api.openai.com/v1#frag")]
    [InlineData("not a url")]
    public void TryParse_NotAPlainHttpUrl_SaysWhy(string text)
    {
        Assert.Null(BaseUrl.TryParse(text, out string? problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }
}
