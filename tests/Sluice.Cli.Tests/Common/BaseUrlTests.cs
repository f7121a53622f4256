using CsCheck;
using Sluice.Cli.Proxy;
using Sluice.Cli.Common;

namespace Sluice.Cli.Tests.Common;

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

    [Fact]
    public void Join_AnyPathTheProxyForwards_StaysUnderTheBaseUrlsPath()
    {
        var bases = Gen.OneOf(
            Gen.Const("https://generativelanguage.googleapis.com/v1beta/openai/"),
            Gen.Const("https://api.groq.com/openai/v1"),
            Gen.Const("https://res.openai.azure.com/openai/v1/?api-version=preview"),
            Gen.Const("http://127.0.0.1:9/"));
        var segment = Gen.OneOf(Gen.String[0, 12], Gen.Const(".."), Gen.Const("."), Gen.Const("%2e%2e"), Gen.Const("evil.example:443"), Gen.Const(""));
        var paths = segment.Array[1, 5].Select(s => "/v1/" + string.Join('/', s));
        Gen.Select(bases, paths).Sample((text, path) =>
        {
            if (ProxyRequestGuard.Refusal("POST", path) is not null || !ProxyRouter.IsApiPath(path) || !Uri.TryCreate("http://h" + path, UriKind.Absolute, out _))
            {
                return;
            }

            var baseUrl = BaseUrl.TryParse(text, out _)!;
            var joined = BaseUrl.Join(baseUrl, path);

            Assert.Equal(baseUrl.GetLeftPart(UriPartial.Authority), joined.GetLeftPart(UriPartial.Authority));
            Assert.StartsWith(baseUrl.AbsolutePath.TrimEnd('/') + "/", joined.AbsolutePath, StringComparison.Ordinal);
        }, iter: 5_000);
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
