using System.Net;
using System.Net.Sockets;
using System.Text;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// Issue 14, findings 2 and 3, against <c>sluice proxy</c> as the CLI hosts it (the reviewer's reproduction was against
/// the built binary): a double-encoded path or an encoded '?' does not reach the upstream with the proxy's key, and a
/// body declared far larger than it is gets an ordinary answer. The library's own tests (tests/Sluice.Proxy.Tests)
/// cover each rule; these check the CLI host keeps them.
/// </summary>
public sealed class ProxyRequestEdgeTests
{
    [Theory]
    [InlineData("/v1/%252e%252e/%252e%252e/secret")]
    [InlineData("/v1/models%3Fapi-version=evil")]
    [InlineData("/v1/%c0%ae%c0%ae/secret")]
    [InlineData("/v1/..;/secret")]
    public async Task EncodedEscapes_AreRefused_AndNothingIsSentWithTheProxysKey(string target)
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => ProxyFixture.Single(mock, apiKey: "sk-held-integration-key"));

        string answer = await SendAsync(fixture, $"GET {target} HTTP/1.1\r\nHost: {fixture.Proxy.BaseUrl.Authority}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("x-sluice-error: upstream_not_allowed", answer, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, fixture.Mock.GetStats().Received);
    }

    [Fact]
    public async Task BodyDeclaredLargerThanSent_HoldsNoMemoryForIt_AndTheProxyAnswersOthers()
    {
        await using var fixture = await ProxyFixture.StartAsync(new MockOptions(), mock => ProxyFixture.Single(mock));

        // Ten clients declare 32 MB each and send one byte; the proxy holds their byte, not their promise.
        var stalled = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                var tcp = new TcpClient();
                stalled.Add(tcp);
                await tcp.ConnectAsync(IPAddress.Loopback, fixture.Proxy.BaseUrl.Port).WaitAsync(ProxyFixture.Bound);
                await tcp.GetStream().WriteAsync(Encoding.ASCII.GetBytes(
                    $"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {32 * 1024 * 1024}\r\n\r\n{{")).AsTask().WaitAsync(ProxyFixture.Bound);
            }

            var buffers = fixture.Proxy.Proxy.Forwarder.Buffers;
            Assert.True(await ProxyFixture.EventuallyAsync(() => buffers.Held >= 10), $"the stalled bodies were not being read: {buffers.Held} bytes held");
            Assert.True(buffers.Held <= 10 * 4096, $"ten one-byte bodies hold {buffers.Held} bytes");

            using var answer = await fixture.Client.PostAsync("/v1/chat/completions", new StringContent("{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        finally
        {
            stalled.ForEach(tcp => tcp.Dispose());
        }

        Assert.True(await ProxyFixture.EventuallyAsync(() => fixture.Proxy.Proxy.Forwarder.Buffers.Held == 0), "the abandoned bodies' bytes were not given back");
    }

    private static async Task<string> SendAsync(ProxyFixture fixture, string raw)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Proxy.BaseUrl.Port).WaitAsync(ProxyFixture.Bound);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(raw)).AsTask().WaitAsync(ProxyFixture.Bound);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return await reader.ReadToEndAsync().WaitAsync(ProxyFixture.Bound);
    }
}
