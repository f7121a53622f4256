using CsCheck;
using Sluice.Providers;

namespace Sluice.Proxy.Tests;

public sealed class ProxyRequestGuardTests
{
    [Theory]
    [InlineData("POST", "/v1/chat/completions")]
    [InlineData("GET", "/v1/models?limit=5")]
    [InlineData("GET", "/v1/models/gpt-3.5-turbo")]
    [InlineData("POST", "/anthropic/v1/messages")]
    public void OrdinaryPaths_AreAccepted(string method, string target) => Assert.Null(ProxyRequestGuard.Refusal(method, target));

    [Theory]
    [InlineData("POST", "http://evil.example/v1/chat/completions")]
    [InlineData("POST", "https://api.openai.com/v1/chat/completions")]
    [InlineData("CONNECT", "evil.example:443")]
    [InlineData("POST", "//evil.example/v1/chat/completions")]
    [InlineData("POST", "/v1/../admin")]
    [InlineData("POST", "/v1/./chat")]
    [InlineData("POST", "/v1/%2e%2e/admin")]
    [InlineData("POST", "/v1/chat%2Fcompletions")]
    [InlineData("POST", "/v1\\chat")]
    [InlineData("OPTIONS", "*")]
    public void TargetsThatNameAnotherPlace_AreRefused(string method, string target) => Assert.NotNull(ProxyRequestGuard.Refusal(method, target));

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
}
