using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sluice.Browser.Tests.Support;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Browser.Tests;

/// <summary>The dashboard's files and the status's history over plain HTTP: types, policy, caching, shape.</summary>
public sealed class DashboardEndpointTests
{
    [Fact]
    public async Task PageAndAssets_AreEmbedded_WithTheirTypes_ThePolicy_AndRevalidation()
    {
        await using var host = await StartAsync(proxyKey: "sk-proxy-endpoint-test-key");
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseUrl, Timeout = DashboardHost.Bound };

        using var redirect = await client.GetAsync("sluice");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal(host.Page, new Uri(new Uri(host.BaseUrl, "sluice"), redirect.Headers.Location!));

        foreach (var (path, type) in new[] { ("sluice/", "text/html"), ("sluice/assets/app.js", "text/javascript"), ("sluice/assets/app.css", "text/css") })
        {
            // The page needs no key, even when the status does: it holds no data.
            using var answer = await client.GetAsync(path);
            string body = await answer.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal(type, answer.Content.Headers.ContentType?.MediaType);
            Assert.Equal("utf-8", answer.Content.Headers.ContentType?.CharSet);
            Assert.StartsWith("default-src 'self'", Assert.Single(answer.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
            Assert.Equal("nosniff", Assert.Single(answer.Headers.GetValues("X-Content-Type-Options")));
            Assert.Equal("no-cache", answer.Headers.CacheControl?.ToString());
            Assert.NotNull(answer.Headers.ETag);
            Assert.DoesNotContain("http://", body, StringComparison.Ordinal);
            Assert.DoesNotContain("https://", body, StringComparison.Ordinal);

            using var again = new HttpRequestMessage(HttpMethod.Get, path);
            again.Headers.IfNoneMatch.Add(answer.Headers.ETag!);
            using var notModified = await client.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        using var status = await client.GetAsync("sluice/status");
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
    }

    [Fact]
    public async Task Status_HasTheSecondsWithTries_AndEachUpstreamsThrottlesAndRetries()
    {
        await using var host = await StartAsync(proxyKey: null);
        using var client = new HttpClient { BaseAddress = host.BaseUrl, Timeout = DashboardHost.Bound };
        for (int i = 0; i < 3; i++)
        {
            using var answer = await client.PostAsJsonAsync("v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } });
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using var status = JsonDocument.Parse(await client.GetStringAsync("sluice/status"));

        var history = status.RootElement.GetProperty("history");
        Assert.Equal(1, history.GetProperty("interval_seconds").GetInt32());
        var points = history.GetProperty("points").EnumerateArray().ToList();
        Assert.InRange(points.Count, 1, 3);
        Assert.All(points.Zip(points.Skip(1)), pair => Assert.True(pair.First.GetProperty("at").GetInt64() < pair.Second.GetProperty("at").GetInt64(), "points oldest first"));
        Assert.Equal(3, points.Sum(p => p.GetProperty("answered").GetInt64()));
        Assert.Equal(3, points.Sum(p => p.GetProperty("admitted").GetInt64()));
        Assert.All(points, p => Assert.Equal(0, p.GetProperty("throttled").GetInt64() + p.GetProperty("retries").GetInt64()));
        Assert.InRange(points[^1].GetProperty("at").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), -60, 60);
        var upstream = Assert.Single(status.RootElement.GetProperty("upstreams").EnumerateArray());
        Assert.Equal(0, upstream.GetProperty("throttled").GetInt64());
        Assert.Equal(0, upstream.GetProperty("retries").GetInt64());
    }

    private static Task<DashboardHost> StartAsync(string? proxyKey) => DashboardHost.StartAsync(
        [new MockOptions()],
        (options, mocks) =>
        {
            options.ProxyKey = proxyKey;
            options.Upstreams.Add(new ProxyUpstream { Name = "default", Url = mocks[0], IsDefault = true });
        });
}
