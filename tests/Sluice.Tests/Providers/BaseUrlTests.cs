using Sluice.Providers;

namespace Sluice.Tests.Providers;

public sealed class BaseUrlTests
{
    [Theory]
    [InlineData("https://api.openai.com", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/v1", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.openai.com/v1/", "/v1/embeddings", "https://api.openai.com/v1/embeddings")]
    [InlineData("http://127.0.0.1:8000/", "/v1/chat/completions", "http://127.0.0.1:8000/v1/chat/completions")]
    [InlineData("https://gateway.example.com/openai", "/v1/chat/completions", "https://gateway.example.com/openai/chat/completions")]
    [InlineData("https://gateway.example.com/openai/v1", "/v1/responses", "https://gateway.example.com/openai/v1/responses")]
    [InlineData("https://generativelanguage.googleapis.com/v1beta/openai/", "/v1/chat/completions", "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions")]
    [InlineData("https://api.groq.com/openai/v1", "/v1/chat/completions", "https://api.groq.com/openai/v1/chat/completions")]
    [InlineData("https://openrouter.ai/api/v1", "/v1/embeddings", "https://openrouter.ai/api/v1/embeddings")]
    [InlineData("https://api.fireworks.ai/inference/v1", "/v1/completions", "https://api.fireworks.ai/inference/v1/completions")]
    [InlineData("https://api.deepseek.com", "/v1/chat/completions", "https://api.deepseek.com/v1/chat/completions")]
    [InlineData("https://example.com/v1beta", "/v1/chat/completions", "https://example.com/v1beta/chat/completions")]
    [InlineData("https://example.com/api", "/v1beta/chat/completions", "https://example.com/api/v1beta/chat/completions")]
    [InlineData("https://res.openai.azure.com/openai/v1/?api-version=preview", "/v1/chat/completions", "https://res.openai.azure.com/openai/v1/chat/completions?api-version=preview")]
    [InlineData("https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21", "/chat/completions", "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")]
    [InlineData("https://res.openai.azure.com/openai/deployments/gpt-4o?api-version=2024-10-21", "/v1/chat/completions", "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")]
    [InlineData("https://res.openai.azure.com/openai?api-version=2024-10-21", "/openai/deployments/d/chat/completions", "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21")]
    [InlineData("https://res.openai.azure.com?api-version=2024-10-21", "/openai/deployments/d/chat/completions", "https://res.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-10-21")]
    [InlineData("https://gateway.example.com/openai?key=1", "/v1/models?limit=5", "https://gateway.example.com/openai/models?limit=5&key=1")]
    public void Join_TakesTheBaseUrlAsTheSdksDo(string baseUrl, string path, string expected)
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
