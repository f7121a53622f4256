using System.Text;

namespace Sluice.Proxy.Tests;

/// <summary>
/// Issue 14, finding 3: request bodies are bounded per request (413) and across every client together (503
/// <c>buffers_full</c>), and the bounds cannot overflow.
/// </summary>
public sealed class ProxyBodyEdgeTests
{
    private const long OneMiB = 1024 * 1024;

    [Fact]
    public async Task BodiesOverTheProxyWideBound_Get503BuffersFull_UntilEarlierOnesAreAnswered()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await EdgeHost.StartAsync(
            async http =>
            {
                await release.Task.WaitAsync(EdgeHost.Bound);
                await EdgeHost.Ok(http);
            },
            options =>
            {
                options.MaxRequestBodyBytes = OneMiB;
                options.MaxBufferedRequestBytes = 2 * OneMiB;
            });

        // The first body is held while its request is with the (stalled) upstream.
        // 900 KB held; a second 900 KB body needs up to twice that while it is joined into one array: over 2 MiB.
        var first = host.PostAsync("/v1/chat/completions", Json(900 * 1024));
        Assert.True(await Eventually(() => !host.Arrivals.IsEmpty), "the first request never reached the upstream");
        var refused = await host.PostAsync("/v1/chat/completions", Json(900 * 1024));
        release.SetResult();
        var answered = await first;
        Assert.True(await Eventually(() => host.Proxy.Forwarder.Buffers.Held == 0), $"{host.Proxy.Forwarder.Buffers.Held} bytes still held");
        var later = await host.PostAsync("/v1/chat/completions", Json(900 * 1024));

        Assert.Equal(503, refused.Status);
        Assert.Equal("buffers_full", refused.Headers["x-sluice-error"]);
        Assert.Equal("5", refused.Headers["Retry-After"]);
        Assert.Contains("--max-buffered-mb", refused.Body, StringComparison.Ordinal);
        Assert.Equal(200, answered.Status);
        Assert.Equal(200, later.Status);
        Assert.Equal(2, host.Arrivals.Count);
        Assert.Empty(host.Problems);
    }

    [Fact]
    public async Task DeclaredBodyOverTheLimit_Gets413_WithoutBeingRead()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options => options.MaxRequestBodyBytes = OneMiB);

        var answer = await host.SendAsync($"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {3L * 1024 * 1024 * 1024}\r\n");

        Assert.Equal(413, answer.Status);
        Assert.Equal("request_too_large", answer.Headers["x-sluice-error"]);
        Assert.Empty(host.Arrivals);
        Assert.Equal(0, host.Proxy.Forwarder.Buffers.Held);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimit_Gets413()
    {
        await using var host = await EdgeHost.StartAsync(EdgeHost.Ok, options => options.MaxRequestBodyBytes = OneMiB);
        byte[] chunk = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
        using var body = new MemoryStream();
        for (int i = 0; i < 20; i++)
        {
            body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }

        body.Write("0\r\n\r\n"u8);

        var answer = await host.SendAsync("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n", body.ToArray());

        Assert.Equal(413, answer.Status);
        Assert.Empty(host.Arrivals);
        Assert.True(await Eventually(() => host.Proxy.Forwarder.Buffers.Held == 0));
    }

    [Theory]
    [InlineData(2048L * 1024 * 1024, 4096L * 1024 * 1024, "MaxRequestBodyBytes must be at most")]
    [InlineData(64L * 1024 * 1024, 127L * 1024 * 1024, "MaxBufferedRequestBytes")]
    public void BodyLimits_ThatCannotHold_FailValidation(long maxBody, long maxBuffered, string problem)
    {
        var options = new SluiceProxyOptions { MaxRequestBodyBytes = maxBody, MaxBufferedRequestBytes = maxBuffered };
        options.Upstreams.Add(new ProxyUpstream { Name = "up", Url = new Uri("http://127.0.0.1:9/") });

        var result = new SluiceProxyOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(problem, StringComparison.Ordinal));
    }

    private static string Json(int size) => "{\"model\":\"gpt-4o-mini\",\"messages\":[],\"pad\":\"" + new string('x', size) + "\"}";

    private static async Task<bool> Eventually(Func<bool> condition)
    {
        long start = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(start) > TimeSpan.FromSeconds(20))
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }
}
