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
    public void Join_WithOrWithoutV1_NeverDoublesIt(string baseUrl, string path, string expected)
    {
        var parsed = BaseUrl.TryParse(baseUrl, out string? problem);

        Assert.Null(problem);
        Assert.Equal(expected, BaseUrl.Join(parsed!, path).ToString());
    }

    [Theory]
    [InlineData("api.openai.com")]
    [InlineData("ftp://api.openai.com")]
    [InlineData("https://api.openai.com/v1?x=1")]
    [InlineData("not a url")]
    public void TryParse_NotAPlainHttpUrl_SaysWhy(string text)
    {
        Assert.Null(BaseUrl.TryParse(text, out string? problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }
}
