using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Proxy;

/// <summary><c>sluice proxy</c> in front of the mock: queueing, streams, disconnects, keys and refusals.</summary>
public sealed class ProxyBehaviourTests
{
    private static readonly object Chat = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 10 };

    private static readonly object LongStream = new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 400, stream = true };

    [Fact]
    public async Task ClientDisconnectsMidStream_SlotIsFreed_AndTheNextRequestRuns()
    {
        // One slot, and a stream that takes 20 s to finish unless its client leaves.
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { TimePerOutputToken = TimeSpan.FromMilliseconds(50), ReplyTokens = 400 },
            mock => ProxyFixture.Single(mock, concurrency: 1));

        using (var cancel = new CancellationTokenSource(ProxyFixture.Bound))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(LongStream) };
            using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            var body = await response.Content.ReadAsStreamAsync(cancel.Token);
            var first = new byte[256];
            Assert.True(await body.ReadAsync(first, cancel.Token) > 0);
            Assert.Equal(1, fixture.OnlyPartition.GetSnapshot().InFlight);
            await cancel.CancelAsync();
        }

        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().InFlight == 0), "the slot of the abandoned stream was not released");
        using var next = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task ClientDisconnectsWhileQueued_LeavesTheQueue()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { TimePerOutputToken = TimeSpan.FromMilliseconds(50), ReplyTokens = 400 },
            mock => ProxyFixture.Single(mock, concurrency: 1));
        using var holder = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(LongStream) };
        using var holding = await fixture.Client.SendAsync(holder, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ProxyFixture.Bound);

        using var cancel = new CancellationTokenSource();
        var waiting = fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat, cancel.Token);
        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().Queued == 1), "the second request never queued");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting).WaitAsync(ProxyFixture.Bound);

        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().Queued == 0), "the abandoned request kept its place in the queue");
        Assert.Equal(1, fixture.Mock.GetStats().Received);
    }

    [Theory]
    [InlineData("POST http://evil.example/v1/chat/completions HTTP/1.1\r\nHost: evil.example\r\n")]
    [InlineData("POST http://{proxy}/v1/chat/completions HTTP/1.1\r\nHost: {proxy}\r\n")]
    [InlineData("POST //evil.example/v1/chat/completions HTTP/1.1\r\nHost: {proxy}\r\n")]
    [InlineData("POST /v1/%2e%2e/%2e%2e/evil HTTP/1.1\r\nHost: {proxy}\r\n")]
    [InlineData("CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n")]
    public async Task RequestThatTriesToChooseAnotherUpstream_IsRefused_AndNothingIsSent(string head)
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => ProxyFixture.Single(mock));
        string authority = fixture.Proxy.BaseUrl.Authority;
        string body = "{\"model\":\"gpt-4o-mini\",\"messages\":[]}";
        string raw = head.Replace("{proxy}", authority, StringComparison.Ordinal) +
            $"Content-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Proxy.BaseUrl.Port).WaitAsync(ProxyFixture.Bound);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw)).AsTask().WaitAsync(ProxyFixture.Bound);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string answer = await reader.ReadToEndAsync().WaitAsync(ProxyFixture.Bound);

        Assert.StartsWith("HTTP/1.1 4", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Equal(0, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task WaitLongerThanMaxWait_Gets429WithHonestRetryAfter_InsteadOfWaiting()
    {
        // One request a minute: the first goes at once, the second would wait a minute.
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions(),
            mock => ProxyFixture.Single(mock, rpm: 1) with { MaxWait = TimeSpan.FromMilliseconds(300) });

        using var first = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        using var second = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("max_wait", second.Headers.GetValues("x-sluice-error").Single());
        var retryAfter = second.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(61));
        using var error = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(1, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task WaitingForASlotLongerThanMaxWait_Gets429_AndLeavesTheQueue()
    {
        // No budget to predict the wait from: one slot, held by a long stream, so the second request waits in the
        // queue until --max-wait runs out.
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { TimePerOutputToken = TimeSpan.FromMilliseconds(50), ReplyTokens = 400 },
            mock => ProxyFixture.Single(mock, concurrency: 1) with { MaxWait = TimeSpan.FromMilliseconds(300) });
        using var holder = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(LongStream) };
        using var holding = await fixture.Client.SendAsync(holder, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ProxyFixture.Bound);

        using var waited = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);

        Assert.Equal((HttpStatusCode)429, waited.StatusCode);
        Assert.Equal("max_wait", waited.Headers.GetValues("x-sluice-error").Single());
        Assert.NotNull(waited.Headers.RetryAfter?.Delta);
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().Queued);
        Assert.Equal(1, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task QueueFull_Gets429WithRetryAfter_AtOnce()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { TimePerOutputToken = TimeSpan.FromMilliseconds(50), ReplyTokens = 400 },
            mock => ProxyFixture.Single(mock, concurrency: 1) with { MaxQueue = 1 });
        using var holder = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(LongStream) };
        using var holding = await fixture.Client.SendAsync(holder, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ProxyFixture.Bound);
        using var cancel = new CancellationTokenSource();
        var queued = fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat, cancel.Token);
        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.OnlyPartition.GetSnapshot().Queued == 1), "the second request never queued");

        using var third = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);

        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.Equal("queue_full", third.Headers.GetValues("x-sluice-error").Single());
        Assert.NotNull(third.Headers.RetryAfter?.Delta);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued).WaitAsync(ProxyFixture.Bound);
    }

    [Fact]
    public async Task RejectedKey_IsPassedToTheClientAsTheProviderSentIt_WithoutARetryStorm()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { Faults = new MockFaults { AuthExpiresAfterRequests = 1 } },
            mock => ProxyFixture.Single(mock, apiKey: "sk-upstream-expiring"));

        using var ok = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        using var rejected = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        using var again = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        foreach (var response in new[] { rejected, again })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.False(response.Headers.Contains("x-sluice-error"));
            Assert.Contains("invalid_api_key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(2, fixture.Mock.GetStats().Received);
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains("sk-upstream-expiring", StringComparison.Ordinal));
    }

    [Fact]
    public async Task QuotaExhausted_IsPassedToTheClientAsTheProviderSentIt()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { Faults = new MockFaults { QuotaExhaustedAfterRequests = 2 } },
            mock => ProxyFixture.Single(mock));

        for (int i = 0; i < 2; i++)
        {
            using var ok = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using var stopped = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        using var again = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);

        foreach (var response in new[] { stopped, again })
        {
            Assert.Equal((HttpStatusCode)429, response.StatusCode);
            Assert.False(response.Headers.Contains("x-sluice-error"));
            Assert.Contains("insufficient_quota", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The second stopped caller got the provider's answer from the proxy, without another upstream request.
        Assert.Equal(3, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task ClientKeys_PassThrough_PartitionByFingerprint_AndNeverAppear()
    {
        const string KeyA = "sk-client-secret-AAAA-1";
        const string KeyB = "sk-client-secret-BBBB-2";
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => ProxyFixture.Single(mock, rpm: 600));

        foreach (string key in new[] { KeyA, KeyB, KeyA })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(Chat) };
            request.Headers.Authorization = new("Bearer", key);
            using var response = await fixture.Client.SendAsync(request).WaitAsync(ProxyFixture.Bound);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Unknown model: the provider's 404 (with the key-bearing request) reaches the client unchanged.
        using (var unknown = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "no-such-model", messages = new[] { new { role = "user", content = "hi" } } }),
        })
        {
            unknown.Headers.Authorization = new("Bearer", KeyA);
            using var response = await fixture.Client.SendAsync(unknown).WaitAsync(ProxyFixture.Bound);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        Assert.Equal(2, fixture.Engine.Gate.Partitions.Count(p => p.Key.EndsWith("|gpt-4o-mini", StringComparison.Ordinal)));
        string metrics = await fixture.Client.GetStringAsync("metrics").WaitAsync(ProxyFixture.Bound);
        string status = await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound);
        foreach (string key in new[] { KeyA, KeyB })
        {
            Assert.DoesNotContain(fixture.Logs.Lines, line => line.Contains(key, StringComparison.Ordinal) || line.Contains(key[3..], StringComparison.Ordinal));
            Assert.DoesNotContain(key, metrics, StringComparison.Ordinal);
            Assert.DoesNotContain(key, status, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ProxyKey_Required_WhenConfigured()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions(),
            mock => ProxyFixture.Single(mock, apiKey: "sk-upstream-held") with { ProxyKey = "proxy-key-for-clients" });

        using var without = await fixture.Client.PostAsJsonAsync("v1/chat/completions", Chat).WaitAsync(ProxyFixture.Bound);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = JsonContent.Create(Chat) };
        request.Headers.Authorization = new("Bearer", "proxy-key-for-clients");
        using var with = await fixture.Client.SendAsync(request).WaitAsync(ProxyFixture.Bound);

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.OK, with.StatusCode);
        Assert.Equal(1, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task Operations_Healthz_Status_Metrics_And_GracefulDrain()
    {
        await using var fixture = await ProxyFixture.StartAsync(
            new MockOptions { TimePerOutputToken = TimeSpan.FromMilliseconds(20), ReplyTokens = 40 },
            mock => ProxyFixture.Single(mock, rpm: 600));
        Assert.Equal("ok\n", await fixture.Client.GetStringAsync("healthz").WaitAsync(ProxyFixture.Bound));

        // A stream in flight when the drain starts still finishes whole.
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 40, stream = true }),
        };
        using var response = await fixture.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(ProxyFixture.Bound);
        using var status = JsonDocument.Parse(await fixture.Client.GetStringAsync("sluice/status").WaitAsync(ProxyFixture.Bound));
        var partition = status.RootElement.GetProperty("upstreams")[0].GetProperty("partitions")[0];
        Assert.Equal(600, partition.GetProperty("rpm").GetInt32());
        Assert.Equal(1, partition.GetProperty("in_flight").GetInt32());

        var drain = fixture.Proxy.DrainAsync();
        string body = await response.Content.ReadAsStringAsync().WaitAsync(ProxyFixture.Bound);
        await drain.WaitAsync(ProxyFixture.Bound);

        Assert.Contains("data: [DONE]", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"choices\":[]", body, StringComparison.Ordinal);
        Assert.Equal(0, fixture.OnlyPartition.GetSnapshot().InFlight);
    }
}
