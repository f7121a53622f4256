using System.Net;
using System.Text;
using System.Text.Json;
using Sluice.Cli.Proxy;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// The opt-in response cache in <c>sluice proxy</c> against the mock: a deterministic request answered once by the
/// mock and then from the cache with an identical body, a streamed one replayed byte for byte as a stream, temperature
/// 0.7 cached only with <c>cache_any_temperature</c>, <c>x-sluice-cache: off</c> and <c>use</c>, and the numbers in
/// <c>/sluice/status</c> and <c>/metrics</c>.
/// </summary>
public sealed class ProxyCacheTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-proxy-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private ProxySettings Cached(Uri mock, bool upstreamCaches = true, bool anyTemperature = false) => ProxyFixture.Single(mock) with
    {
        Upstreams = [ProxyFixture.Single(mock).Upstreams[0] with { Cache = upstreamCaches, CacheAnyTemperature = anyTemperature }],
        CacheFile = Path.Combine(_directory, "cache.db"),
    };

    private static HttpRequestMessage Chat(string prompt, double? temperature = 0, bool stream = false, string? cacheHeader = null)
    {
        string temperatureField = temperature is { } t ? $"\"temperature\":{t.ToString(System.Globalization.CultureInfo.InvariantCulture)}," : "";
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(
                $$"""{"model":"gpt-4o-mini",{{temperatureField}}"max_tokens":12,"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{prompt}}"}]}""",
                Encoding.UTF8,
                "application/json"),
        };
        if (cacheHeader is not null)
        {
            request.Headers.Add("x-sluice-cache", cacheHeader);
        }

        return request;
    }

    private static async Task<(HttpStatusCode Status, string? Cache, string? ContentType, byte[] Body)> SendAsync(ProxyFixture fixture, HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseContentRead).WaitAsync(ProxyFixture.Bound);
            string? cache = response.Headers.TryGetValues("x-sluice-cache", out var values) ? values.Single() : null;
            return (response.StatusCode, cache, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task DeterministicRequestTwice_MockSeesOne_SecondIsHitWithIdenticalBody()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions { Seed = 1 }, mock => Cached(mock));

        var first = await SendAsync(fixture, Chat("Summarise post 1."));
        var second = await SendAsync(fixture, Chat("Summarise post 1."));

        Assert.Equal((HttpStatusCode.OK, "miss"), (first.Status, first.Cache));
        Assert.Equal((HttpStatusCode.OK, "hit"), (second.Status, second.Cache));
        Assert.Equal(first.Body, second.Body);
        Assert.Equal(1, fixture.Mock.GetStats().Received);
        Assert.Equal("application/json", second.ContentType);
    }

    [Fact]
    public async Task StreamedRequest_ReplayedAsStream_ByteForByte()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions { Seed = 2 }, mock => Cached(mock));

        var first = await SendAsync(fixture, Chat("Stream post 2, please.", stream: true));
        // The entry is stored once the stream's reader reached its end; the mock must not be asked again.
        Assert.True(await ProxyFixture.EventuallyAsync(() => CacheEntries(fixture) == 1), "the stream was not stored");
        var second = await SendAsync(fixture, Chat("Stream post 2, please.", stream: true));

        Assert.Equal((HttpStatusCode.OK, "miss", "text/event-stream"), (first.Status, first.Cache, first.ContentType));
        Assert.Equal((HttpStatusCode.OK, "hit", "text/event-stream"), (second.Status, second.Cache, second.ContentType));
        Assert.Equal(first.Body, second.Body);
        Assert.EndsWith("data: [DONE]\n\n", Encoding.UTF8.GetString(second.Body), StringComparison.Ordinal);
        Assert.Equal(1, fixture.Mock.GetStats().Received);
        output.WriteLine($"replayed {second.Body.Length} bytes");
    }

    [Fact]
    public async Task Temperature07_NotCached_UnlessAnyTemperature()
    {
        await using (var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Cached(mock)))
        {
            var first = await SendAsync(fixture, Chat("Warm post 3.", temperature: 0.7));
            var second = await SendAsync(fixture, Chat("Warm post 3.", temperature: 0.7));
            var absent = await SendAsync(fixture, Chat("Warm post 3.", temperature: null));

            Assert.Equal(("bypass", "bypass", "bypass"), (first.Cache, second.Cache, absent.Cache));
            Assert.Equal(3, fixture.Mock.GetStats().Received);
        }

        await using (var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Cached(mock, anyTemperature: true)))
        {
            var first = await SendAsync(fixture, Chat("Warm post 3.", temperature: 0.7));
            var second = await SendAsync(fixture, Chat("Warm post 3.", temperature: 0.7));

            Assert.Equal(("miss", "hit"), (first.Cache, second.Cache));
            Assert.Equal(first.Body, second.Body);
            Assert.Equal(1, fixture.Mock.GetStats().Received);
        }
    }

    [Fact]
    public async Task Off_Bypasses_Use_OptsIn_NoHeaderWhenNotInPlay()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Cached(mock, upstreamCaches: false));

        var plain1 = await SendAsync(fixture, Chat("Post 4."));
        var plain2 = await SendAsync(fixture, Chat("Post 4."));
        Assert.Equal((null, null), (plain1.Cache, plain2.Cache));
        Assert.Equal(2, fixture.Mock.GetStats().Received);

        var use1 = await SendAsync(fixture, Chat("Post 4.", cacheHeader: "use"));
        var use2 = await SendAsync(fixture, Chat("Post 4.", cacheHeader: "use"));
        var off = await SendAsync(fixture, Chat("Post 4.", cacheHeader: "off"));
        Assert.Equal(("miss", "hit", "bypass"), (use1.Cache, use2.Cache, off.Cache));
        Assert.Equal(4, fixture.Mock.GetStats().Received);

        var bad = await SendAsync(fixture, Chat("Post 4.", cacheHeader: "maybe"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.Equal(4, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task UpstreamCaches_OffBypassesEvenAStoredAnswer_StatusAndMetricsCount()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => Cached(mock));

        await SendAsync(fixture, Chat("Post 5."));
        await SendAsync(fixture, Chat("Post 5."));
        var off = await SendAsync(fixture, Chat("Post 5.", cacheHeader: "off"));

        Assert.Equal((HttpStatusCode.OK, "bypass"), (off.Status, off.Cache));
        Assert.Equal(2, fixture.Mock.GetStats().Received);
        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        var upstream = status.RootElement.GetProperty("upstreams")[0].GetProperty("cache");
        Assert.Equal((true, 1L, 1L, 1L), (upstream.GetProperty("enabled").GetBoolean(), upstream.GetProperty("hits").GetInt64(), upstream.GetProperty("misses").GetInt64(), upstream.GetProperty("bypasses").GetInt64()));
        var cache = status.RootElement.GetProperty("cache");
        Assert.Equal(1, cache.GetProperty("hits").GetInt64());
        Assert.True(await ProxyFixture.EventuallyAsync(() => CacheEntries(fixture) == 1), "the answer was not stored");
        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        Assert.Contains("sluice_proxy_cache_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_cache_result=\"hit\"", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_proxy_cache_entries", metrics, StringComparison.Ordinal);
    }

    private static long CacheEntries(ProxyFixture fixture) => fixture.Proxy.Proxy.Options.Cache!.Statistics.Entries;
}
