using System.Text.Json;
using Microsoft.AspNetCore.Http;

using Sluice.Providers;

namespace Sluice.Proxy.Tests;

public sealed class ProxyErrorsTests
{
    private static async Task<(HttpResponse Response, JsonElement Body)> WriteAsync(ProviderKind provider, int status, TimeSpan? retryAfter)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await ProxyErrors.WriteAsync(context, status, provider, "max_wait", "wait less", retryAfter).WaitAsync(TimeSpan.FromSeconds(10));
        return (context.Response, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }

    [Fact]
    public async Task OpenAIStyle429_WithRetryAfterRoundedUp()
    {
        var (response, body) = await WriteAsync(ProviderKind.OpenAI, 429, TimeSpan.FromMilliseconds(1_200));

        Assert.Equal(429, response.StatusCode);
        Assert.Equal("2", response.Headers.RetryAfter.ToString());
        Assert.Equal("1200", response.Headers["retry-after-ms"].ToString());
        Assert.Equal("max_wait", response.Headers["x-sluice-error"].ToString());
        Assert.Equal("rate_limit_exceeded", body.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal("wait less", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task AnthropicStyle429()
    {
        var (_, body) = await WriteAsync(ProviderKind.Anthropic, 429, TimeSpan.FromSeconds(3));

        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("rate_limit_error", body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task NoRetryAfter_NoHeader()
    {
        var (response, _) = await WriteAsync(ProviderKind.OpenAI, 400, null);

        Assert.False(response.Headers.ContainsKey("Retry-After"));
    }
}

public sealed class ProxyErrorsSpendCapTests
{
    private static async Task<(HttpResponse Response, JsonElement Body)> WriteAsync(ProviderKind provider)
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Response.Body = body;
        await ProxyErrors.WriteAsync(context, 402, provider, ProxyErrors.SpendCapReached, "cap reached").WaitAsync(TimeSpan.FromSeconds(10));
        return (context.Response, JsonDocument.Parse(body.ToArray()).RootElement.Clone());
    }

    [Fact]
    public async Task OpenAIStyle402_TypeAndCodeSpendCapReached_NoRetryAfter()
    {
        var (response, body) = await WriteAsync(ProviderKind.OpenAI);

        Assert.Equal(402, response.StatusCode);
        Assert.Equal("spend_cap_reached", response.Headers["x-sluice-error"].ToString());
        Assert.False(response.Headers.ContainsKey("Retry-After"));
        var error = body.GetProperty("error");
        Assert.Equal(("spend_cap_reached", "spend_cap_reached", "cap reached"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString(), error.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task AnthropicStyle402_ErrorTypeSpendCapReached()
    {
        var (response, body) = await WriteAsync(ProviderKind.Anthropic);

        Assert.Equal(402, response.StatusCode);
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("spend_cap_reached", body.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("cap reached", body.GetProperty("error").GetProperty("message").GetString());
    }
}
