using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

/// <summary>
/// Issue 14, finding 2: the path the upstream receives is the one checked. A target that would leave the upstream's
/// API root, or change the path or query's structure on its way (after Kestrel's decoding and the Uri's), is refused
/// with 400 <c>upstream_not_allowed</c>, and nothing is sent.
/// </summary>
public sealed class ProxyPathEdgeTests
{
    [Theory]
    [InlineData("/v1/%252e%252e/%252e%252e/secret")]
    [InlineData("/v1/models%3Fapi-version=evil")]
    [InlineData("/v1/models%253Fapi-version=evil")]
    [InlineData("/v1/chat%252fcompletions")]
    [InlineData("/v1/%2e%2e/%2e%2e/secret")]
    [InlineData("/v1/%2E%2E/secret")]
    [InlineData("/v1/..%2fsecret")]
    [InlineData("/v1/..%5csecret")]
    [InlineData("/v1/%c0%ae%c0%ae/secret")]
    [InlineData("/v1/%e0%80%ae%e0%80%ae/secret")]
    [InlineData("/v1/..;/secret")]
    [InlineData("/v1/models;jsessionid=1")]
    [InlineData("/v1//secret")]
    [InlineData("/v1/models%23fragment")]
    [InlineData("/v1/a%20/b")]
    [InlineData("/v1/.../secret")]
    public async Task EncodedEscapes_AreRefused_AndNothingLeavesTheRoot(string target)
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, upstreamPath: "/api/", apiKey: "sk-held-key-123456");

        var answer = await host.PostAsync(target);

        Assert.Equal(400, answer.Status);
        Assert.Equal("upstream_not_allowed", answer.Headers["x-sluice-error"]);
        Assert.Empty(host.Arrivals);
    }

    [Fact]
    public async Task EncodedNul_IsRefusedByTheServerItself_AndNothingIsSent()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, upstreamPath: "/api/");

        var answer = await host.PostAsync("/v1/models%00");

        // Kestrel refuses a NUL in a decoded path before the proxy sees the request; either way it is a 400.
        Assert.Equal(400, answer.Status);
        Assert.Empty(host.Arrivals);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "/api/chat/completions")]
    [InlineData("/v1/models/ft:gpt-4o-mini:org:custom:abc", "/api/models/ft:gpt-4o-mini:org:custom:abc")]
    [InlineData("/v1/models?limit=5&after=%2Fx", "/api/models?limit=5&after=%2Fx")]
    [InlineData("/v1/files/file-abc/content", "/api/files/file-abc/content")]
    [InlineData("/v1/models/gpt-3.5-turbo", "/api/models/gpt-3.5-turbo")]
    public async Task OrdinaryTargets_ArriveUnderTheRoot_Verbatim(string target, string expected)
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, upstreamPath: "/api/", apiKey: "sk-held-key-123456");

        var answer = await host.PostAsync(target);

        Assert.Equal(200, answer.Status);
        Assert.Equal(expected, Assert.Single(host.Arrivals).RawTarget);
    }

    [Fact]
    public async Task BaseUrlQuery_IsKept_BesideTheClientsQuery()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, upstreamPath: "/openai/?api-version=2024-10-21");

        var answer = await host.PostAsync("/v1/chat/completions?x=1");

        Assert.Equal(200, answer.Status);
        Assert.Equal("/openai/chat/completions?x=1&api-version=2024-10-21", Assert.Single(host.Arrivals).RawTarget);
    }

    [Fact]
    public async Task PrivatePrefix_IsMatchedOnTheRawPath()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options => options.Upstreams[0] = options.Upstreams[0] with { Prefix = "/up" }, upstreamPath: "/api/");

        var routed = await host.PostAsync("/up/v1/chat/completions");
        var escaped = await host.PostAsync("/up/v1/%252e%252e/%252e%252e/x");

        Assert.Equal(200, routed.Status);
        Assert.Equal(400, escaped.Status);
        Assert.Equal("/api/chat/completions", Assert.Single(host.Arrivals).RawTarget);
    }

    [Fact]
    public async Task AHugeModelName_IsRefusedBeforeRouting_WithABoundedAnswer()
    {
        // Sibling of finding 3: a client-sized value (the model) must not size the proxy's answer. Since the bounds of
        // finding 1 a model over 128 characters is refused before routing (400 invalid_model), never echoed.
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options =>
        {
            options.Upstreams[0] = options.Upstreams[0] with { IsDefault = false, Models = [new ModelBudget("gpt-*")] };
            options.Upstreams.Add(new ProxyUpstream { Name = "other", Url = new Uri("http://127.0.0.1:9/"), Models = [new ModelBudget("claude-*")] });
        });

        var answer = await host.PostAsync("/v1/chat/completions", "{\"model\":\"" + new string('m', 100_000) + "\",\"messages\":[]}");

        Assert.Equal(400, answer.Status);
        Assert.Equal("invalid_model", answer.Headers["x-sluice-error"]);
        Assert.True(answer.Body.Length < 1_000, $"a 100 KB model name made a {answer.Body.Length}-character answer");
        Assert.Empty(host.Arrivals);
    }

    [Theory]
    [InlineData("TRACE")]
    [InlineData("TRACK")]
    [InlineData("FOO")]
    public async Task MethodsAnApiDoesNotUse_AreRefused_SoNoUpstreamCanEchoTheKey(string method)
    {
        // Sibling of finding 2: TRACE asks the upstream to echo the request — headers, the proxy's key among them.
        await using var host = await EdgeHost.StartAsync(
            http => http.Response.WriteAsync(string.Join("\n", http.Request.Headers.Select(h => $"{h.Key}: {h.Value}"))),
            apiKey: "sk-held-key-for-trace-0123456789");

        var answer = await host.SendAsync($"{method} /v1/models HTTP/1.1\r\nHost: x\r\n");

        Assert.Equal(405, answer.Status);
        Assert.Equal("method_not_allowed", answer.Headers["x-sluice-error"]);
        Assert.Equal("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS", answer.Headers["Allow"]);
        Assert.DoesNotContain("sk-held", answer.Body, StringComparison.Ordinal);
        Assert.Empty(host.Arrivals);
    }
}
