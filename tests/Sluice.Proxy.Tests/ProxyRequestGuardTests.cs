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
    [InlineData("GET", "/v1/models/ft:gpt-4o-mini:org:custom:abc")]
    [InlineData("GET", "/v1/models/%41bc?after=%2F%3F&x=a/b?c")]
    [InlineData("GET", "/v1/models/")]
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
    [InlineData("POST", "/v1/%252e%252e/%252e%252e/secret")]
    [InlineData("POST", "/v1/models%3Fapi-version=evil")]
    [InlineData("POST", "/v1/%c0%ae%c0%ae/x")]
    [InlineData("POST", "/v1/..;/x")]
    [InlineData("POST", "/v1//x")]
    [InlineData("POST", "/v1/%zz")]
    [InlineData("POST", "/v1/x?%zz")]
    [InlineData("POST", "/v1/x?a=<b>")]
    [InlineData("POST", "/v1/x#frag")]
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

    [Theory]
    [InlineData("https://api.openai.com", "/v1/chat/completions", "", "https://api.openai.com/v1/chat/completions")]
    [InlineData("https://api.groq.com/openai/v1", "/v1/models/%41b", "?x=%2F", "https://api.groq.com/openai/v1/models/Ab?x=%2f")]
    [InlineData("https://res.openai.azure.com/openai/?api-version=1", "/v1/chat", "?a=1", "https://res.openai.azure.com/openai/chat?a=1&api-version=1")]
    public void SentUrl_ThatIsTheRootPlusTheClientsPath_IsAccepted(string upstream, string path, string query, string sent) =>
        Assert.Null(ProxyRequestGuard.SentRefusal(new Uri(upstream), path, query, new Uri(sent)));

    [Theory]
    [InlineData("https://api.openai.com", "/v1/chat", "", "https://api.openai.com/chat")]
    [InlineData("https://api.openai.com", "/v1/models%3Fx", "", "https://api.openai.com/v1/models?x")]
    [InlineData("https://api.openai.com", "/v1/a", "?x=1", "https://api.openai.com/v1/a?x=2")]
    [InlineData("https://api.openai.com", "/v1/a", "", "https://evil.example/v1/a")]
    [InlineData("https://api.openai.com/api/", "/v2/a", "", "https://api.openai.com/api/a")]
    public void SentUrl_ThatDiffers_IsRefused(string upstream, string path, string query, string sent) =>
        Assert.NotNull(ProxyRequestGuard.SentRefusal(new Uri(upstream), path, query, new Uri(sent)));

    [Fact]
    public void AnyTargetTheGuardAccepts_IsSentAsTheRootPlusItsOwnSegments()
    {
        // Escapes of every byte, raw punctuation and dots, in any order: whatever passes the first check must pass the
        // second unchanged, and what is sent never leaves the root.
        var piece = Gen.Frequency(
            (3, Gen.Char['!', '~'].Select(c => c.ToString())),
            (2, Gen.Int[0, 255].Select(b => $"%{b:x2}")),
            (1, Gen.Int[0, 255].Select(b => $"%25{b:X2}")),
            (1, Gen.Const(".")));
        var segment = piece.Array[1, 6].Select(p => string.Concat(p));
        var bases = Gen.OneOf("https://api.openai.com", "https://api.groq.com/openai/v1", "https://res.openai.azure.com/openai/?api-version=1", "http://127.0.0.1:9/api/");
        Gen.Select(bases, segment.Array[1, 4]).Sample((text, segments) =>
        {
            string target = "/v1/" + string.Join('/', segments);
            if (ProxyRequestGuard.Refusal("POST", target) is not null)
            {
                return;
            }

            var upstream = new Uri(text);
            var (path, query) = ProxyRequestGuard.Split(target);
            var sent = BaseUrl.Join(upstream, path + query);
            string root = BaseUrl.Join(upstream, "/v1/").AbsolutePath;

            Assert.Null(ProxyRequestGuard.SentRefusal(upstream, path, query, sent));
            Assert.StartsWith(root, sent.AbsolutePath, StringComparison.Ordinal);
            Assert.DoesNotContain("/../", Uri.UnescapeDataString(Uri.UnescapeDataString(sent.AbsolutePath)) + "/", StringComparison.Ordinal);
        }, iter: 20_000);
    }
}
