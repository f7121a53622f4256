using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

/// <summary>
/// Issue 14, findings 4 and 9, end to end through Kestrel and HttpClient: which client headers reach the upstream
/// (an allow-list when the proxy holds the key), which upstream headers reach the client, and what a relayed error
/// may show of a key.
/// </summary>
public sealed class ProxyHeaderEdgeTests
{
    private const string HeldKey = "sk-proj-HeldKeyAbcdefghijklmnopqrstuvwxyz0123456789";

    private const string ForbiddenWhenKeyHeld =
        "OpenAI-Organization: org-victim\r\nOpenAI-Project: proj-victim\r\nCookie: session=abc\r\nForwarded: for=1.2.3.4;host=evil.example\r\n" +
        "X-Forwarded-Host: evil.example\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Real-IP: 1.2.3.4\r\nVia: 1.1 evil\r\n" +
        "Proxy-Foo: bar\r\nX-Custom: anything\r\nAuthorization: Bearer sk-client-key\r\nx-api-key: sk-ant-client\r\napi-key: azure-client\r\n";

    private const string Allowed =
        "OpenAI-Beta: assistants=v2\r\nIdempotency-Key: idem-1\r\nUser-Agent: OpenAI/Python 1.50.0\r\nAccept: application/json\r\n" +
        "X-Stainless-Lang: python\r\nanthropic-beta: prompt-caching-2024-07-31\r\nX-Client-Request-Id: req-1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n";

    [Fact]
    public async Task KeyHeldByTheProxy_OnlyAllowListedClientHeaders_ReachTheUpstream()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, apiKey: HeldKey);

        var answer = await host.PostAsync("/v1/chat/completions", extraHeaders: ForbiddenWhenKeyHeld + Allowed);

        Assert.Equal(200, answer.Status);
        var seen = Assert.Single(host.Arrivals).Headers;
        foreach (string name in new[] { "OpenAI-Organization", "OpenAI-Project", "Cookie", "Forwarded", "X-Forwarded-Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP", "Via", "Proxy-Foo", "X-Custom", "x-api-key", "api-key" })
        {
            Assert.False(seen.ContainsKey(name), $"{name} reached the upstream");
        }

        Assert.Equal($"Bearer {HeldKey}", seen["Authorization"]);
        Assert.Equal("assistants=v2", seen["OpenAI-Beta"]);
        Assert.Equal("idem-1", seen["Idempotency-Key"]);
        Assert.Equal("OpenAI/Python 1.50.0", seen["User-Agent"]);
        Assert.Equal("python", seen["X-Stainless-Lang"]);
        Assert.Equal("prompt-caching-2024-07-31", seen["anthropic-beta"]);
        Assert.Equal("req-1", seen["X-Client-Request-Id"]);
        Assert.Equal("application/json", seen["Content-Type"]);
        Assert.Empty(host.Problems);
    }

    [Fact]
    public async Task ClientsKeys_PassThrough_ButHopByHopTokensAndProxyHeaders_DoNot()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok);

        var answer = await host.SendAsync(
            $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n" +
            "X-Name: hop only\r\nProxy-Foo: bar\r\nProxy-Authorization: Basic abc\r\nX-Custom: kept\r\nOpenAI-Organization: org-mine\r\nAuthorization: Bearer sk-mine\r\nConnection: keep-alive, X-Name\r\n",
            "{}"u8.ToArray());

        Assert.Equal(200, answer.Status);
        var seen = Assert.Single(host.Arrivals).Headers;
        Assert.False(seen.ContainsKey("X-Name"), "a header the Connection header names reached the upstream");
        Assert.False(seen.ContainsKey("Proxy-Foo"));
        Assert.False(seen.ContainsKey("Proxy-Authorization"));
        Assert.Equal("kept", seen["X-Custom"]);
        Assert.Equal("org-mine", seen["OpenAI-Organization"]);
        Assert.Equal("Bearer sk-mine", seen["Authorization"]);
    }

    [Fact]
    public async Task UpstreamHopByHopTokens_ProxyHeaders_AndCookies_DoNotReachTheClient()
    {
        const string Body = "{\"id\":\"x\",\"choices\":[]}";
        await using var upstream = RawUpstream.Start(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive, X-Name\r\nX-Name: hop only\r\nProxy-Foo: bar\r\n" +
            $"Set-Cookie: __cf_bm=abc; path=/; HttpOnly\r\nx-ratelimit-remaining-requests: 99\r\nContent-Length: {Body.Length}\r\n\r\n{Body}");
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, otherUpstream: upstream.Url);

        var answer = await host.PostAsync("/v1/chat/completions");

        Assert.Equal(200, answer.Status);
        Assert.False(answer.Headers.ContainsKey("X-Name"), answer.HeaderText);
        Assert.False(answer.Headers.ContainsKey("Proxy-Foo"), answer.HeaderText);
        Assert.False(answer.Headers.ContainsKey("Set-Cookie"), answer.HeaderText);
        Assert.Equal("99", answer.Headers["x-ratelimit-remaining-requests"]);
        Assert.Equal(Body, answer.Body);
    }

    [Fact]
    public async Task RejectedHeldKey_TheRelayedAnswerAndItsReplay_ShowNoKeyAndNoCookie()
    {
        // OpenAI's answer to a wrong key names it, masked; the masked form still tells a client part of the proxy's key.
        const string Masked = "sk-proj-********************************************6789";
        await using var host = await EdgeHost.StartAsync(http =>
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.SetCookie = "__cf_bm=abc; path=/";
            http.Response.ContentType = "application/json; charset=utf-8";
            return http.Response.WriteAsync(
                "{\"error\":{\"message\":\"Incorrect API key provided: " + Masked + ". You can find your API key at https://platform.openai.com/account/api-keys.\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}");
        }, apiKey: HeldKey);

        var first = await host.PostAsync("/v1/chat/completions");
        var replayed = await host.PostAsync("/v1/chat/completions");

        Assert.Single(host.Arrivals); // the second is the stopped partition's stored answer
        foreach (var answer in new[] { first, replayed })
        {
            Assert.Equal(401, answer.Status);
            Assert.False(answer.Headers.ContainsKey("Set-Cookie"), answer.HeaderText);
            Assert.DoesNotContain("6789", answer.Body, StringComparison.Ordinal);
            Assert.DoesNotContain("sk-proj-", answer.Body, StringComparison.Ordinal);
            Assert.Contains("Incorrect API key provided: [redacted by sluice proxy]. You can find", answer.Body, StringComparison.Ordinal);
            Assert.Equal(answer.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), answer.Headers["Content-Length"]);
            using var json = System.Text.Json.JsonDocument.Parse(answer.Body);
            Assert.Equal("invalid_api_key", json.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }
}
