using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

using Sluice.Providers;

namespace Sluice.Proxy.Tests;

public sealed class ProxyHeadersTests
{
    private static HttpRequestMessage Copy(HeaderDictionary headers, bool keyHeld)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, "https://api.openai.com/v1/chat/completions") { Content = new ByteArrayContent([]) };
        ProxyHeaders.CopyRequestHeaders(headers, message, keyHeld);
        return message;
    }

    [Fact]
    public void Request_HopByHopAndHostAndEncoding_StopAtTheProxy()
    {
        var message = Copy(
            new HeaderDictionary
            {
                ["Host"] = "127.0.0.1:8787",
                ["Connection"] = "keep-alive, X-Private",
                ["X-Private"] = "for this hop only",
                ["Keep-Alive"] = "timeout=5",
                ["Transfer-Encoding"] = "chunked",
                ["Proxy-Authorization"] = "Basic abc",
                ["TE"] = "trailers",
                ["Upgrade"] = "h2c",
                ["Accept-Encoding"] = "gzip",
                ["Content-Length"] = "10",
                ["Content-Type"] = "application/json",
                ["OpenAI-Organization"] = "org-1",
                ["User-Agent"] = "OpenAI/Python 1.0",
            },
            keyHeld: false);

        Assert.Equal(["OpenAI-Organization", "User-Agent"], message.Headers.Select(h => h.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["Content-Type"], message.Content!.Headers.Select(h => h.Key));
    }

    [Fact]
    public void Request_ValuesWithLineBreaks_AreDropped()
    {
        var message = Copy(new HeaderDictionary { ["X-Evil"] = "a\r\nInjected: yes", ["X-Fine"] = "ok" }, keyHeld: false);

        Assert.False(message.Headers.Contains("X-Evil"));
        Assert.False(message.Headers.Contains("Injected"));
        Assert.True(message.Headers.Contains("X-Fine"));
    }

    [Fact]
    public void Request_Credentials_PassThrough_UnlessTheProxyHoldsTheKey()
    {
        var headers = new HeaderDictionary { ["Authorization"] = "Bearer sk-client", ["x-api-key"] = "sk-ant-client", ["api-key"] = "azure-client" };

        Assert.Equal("Bearer sk-client", Copy(headers, keyHeld: false).Headers.Authorization?.ToString());
        var dropped = Copy(headers, keyHeld: true);
        Assert.Empty(dropped.Headers);
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI, "Authorization", "Bearer sk-held")]
    [InlineData(ProviderKind.OpenAICompatible, "Authorization", "Bearer sk-held")]
    [InlineData(ProviderKind.AzureOpenAI, "api-key", "sk-held")]
    [InlineData(ProviderKind.Anthropic, "x-api-key", "sk-held")]
    public void AddCredential_AsTheProviderExpects(ProviderKind provider, string header, string value)
    {
        using var message = new HttpRequestMessage();
        ProviderCredentials.Add(message, provider, "sk-held");

        Assert.Equal(value, string.Join(",", message.Headers.GetValues(header)));
        Assert.Equal(provider == ProviderKind.Anthropic, message.Headers.Contains("anthropic-version"));
    }

    [Fact]
    public void Response_HopByHopStop_ProviderHeadersPass()
    {
        using var answer = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("{}") };
        answer.Headers.TryAddWithoutValidation("x-ratelimit-remaining-requests", "9");
        answer.Headers.TryAddWithoutValidation("Connection", "close");
        answer.Headers.TransferEncodingChunked = true;
        answer.Headers.TryAddWithoutValidation("Alt-Svc", "h3=\":443\"");
        var to = new HeaderDictionary();

        ProxyHeaders.CopyResponseHeaders(answer, to);

        Assert.Equal("9", to["x-ratelimit-remaining-requests"]);
        Assert.True(to.ContainsKey("Content-Type"));
        Assert.False(to.ContainsKey("Connection"));
        Assert.False(to.ContainsKey("Transfer-Encoding"));
        Assert.False(to.ContainsKey("Alt-Svc"));
        Assert.False(to.ContainsKey("Content-Length"));
    }

    [Fact]
    public void Forwarded_HeaderNamedByConnection_Stops() =>
        Assert.False(ProxyHeaders.Forwarded("X-Hop", new StringValues("v"), new HashSet<string>(["x-hop"], StringComparer.OrdinalIgnoreCase)));

    [Fact]
    public void Request_KeyHeld_OnlyTheAllowListPasses()
    {
        var message = Copy(
            new HeaderDictionary
            {
                ["Content-Type"] = "application/json",
                ["OpenAI-Beta"] = "assistants=v2",
                ["X-Stainless-Os"] = "Linux",
                ["OpenAI-Organization"] = "org-other",
                ["OpenAI-Project"] = "proj-other",
                ["Cookie"] = "a=b",
                ["X-Forwarded-For"] = "1.2.3.4",
                ["X-Anything"] = "new",
            },
            keyHeld: true);

        Assert.Equal(["OpenAI-Beta", "X-Stainless-Os"], message.Headers.Select(h => h.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["Content-Type"], message.Content!.Headers.Select(h => h.Key));
    }

    [Fact]
    public void AllowList_NeverNamesACredential() =>
        Assert.All(Sluice.Providers.ProviderCredentials.HeaderNames, name => Assert.False(ProxyHeaders.AllowedWhenKeyHeldName(name)));

    [Theory]
    [InlineData("Proxy-Authorization")]
    [InlineData("Proxy-Anything")]
    [InlineData("proxy-connection")]
    public void ProxyHeaders_NeverCross(string name) => Assert.False(ProxyHeaders.Forwarded(name, new StringValues("v"), null));

    [Fact]
    public void Response_SetCookie_IsNotRelayed()
    {
        using var answer = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("{}") };
        answer.Headers.TryAddWithoutValidation("Set-Cookie", "__cf_bm=abc; path=/");
        var to = new HeaderDictionary();

        ProxyHeaders.CopyResponseHeaders(answer, to);

        Assert.False(to.ContainsKey("Set-Cookie"));
    }
}
