using System.Net;
using System.Net.Http.Json;
using Sluice.Cli.Proxy;
using Sluice.Http;
using Sluice.Integration.Tests.Proxy;
using Sluice.Integration.Tests.Support;

namespace Sluice.Integration.Tests.Http;

/// <summary>
/// A 2xx that is not JSON — speech audio, a file download — is the answer itself: the handler and the proxy pass its
/// bytes through untouched after exactly one upstream attempt, never retrying it as a "malformed body" (for text to
/// speech, each retry would be another billed generation).
/// </summary>
public sealed class NonJsonAnswerTests
{
    private static readonly byte[] Speech = [0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0xFF, 0xFB, 0x90, 0x64, 0x00, 0x0F, 0xF0, 0x00];
    private static readonly byte[] File = [0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x80, 0xFE, 0x0A];

    [Fact]
    public async Task Handler_SpeechAndFileBytes_OneAttemptEach_BytesIdentical()
    {
        await using var server = await StartUpstreamAsync();
        using var client = new HttpClient(new SluiceHandler(MockFixture.FastRetries()) { InnerHandler = new SocketsHttpHandler() })
        {
            BaseAddress = server.BaseUrl,
            Timeout = LoopbackServer.Bound,
        };

        using var speech = await client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-1", input = "Hello", voice = "alloy" }).WaitAsync(LoopbackServer.Bound);
        using var file = await client.GetAsync("v1/files/file-1/content").WaitAsync(LoopbackServer.Bound);

        await AssertPassedThroughAsync(speech, file, server);
    }

    [Fact]
    public async Task Proxy_SpeechAndFileBytes_OneAttemptEach_BytesIdentical()
    {
        await using var server = await StartUpstreamAsync();
        await using var proxy = await ProxyServer.StartAsync(ProxyFixture.Single(server.BaseUrl)).WaitAsync(LoopbackServer.Bound);
        using var client = new HttpClient { BaseAddress = proxy.BaseUrl, Timeout = LoopbackServer.Bound };

        using var speech = await client.PostAsJsonAsync("v1/audio/speech", new { model = "tts-1", input = "Hello", voice = "alloy" }).WaitAsync(LoopbackServer.Bound);
        using var file = await client.GetAsync("v1/files/file-1/content").WaitAsync(LoopbackServer.Bound);

        await AssertPassedThroughAsync(speech, file, server);
    }

    private static Task<LoopbackServer> StartUpstreamAsync() => LoopbackServer.StartAsync(http => http.Request.Path.Value switch
    {
        "/v1/audio/speech" => LoopbackServer.WriteAsync(http, 200, "audio/mpeg", Speech),
        "/v1/files/file-1/content" => LoopbackServer.WriteAsync(http, 200, "application/octet-stream", File),
        _ => LoopbackServer.WriteAsync(http, 404, "application/json", """{"error":{"message":"no such path"}}"""u8.ToArray()),
    });

    private static async Task AssertPassedThroughAsync(HttpResponseMessage speech, HttpResponseMessage file, LoopbackServer server)
    {
        Assert.Equal(HttpStatusCode.OK, speech.StatusCode);
        Assert.Equal("audio/mpeg", speech.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Speech, await speech.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal("application/octet-stream", file.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File, await file.Content.ReadAsByteArrayAsync());
        Assert.Equal(["POST /v1/audio/speech", "GET /v1/files/file-1/content"], server.Requests.Select(r => $"{r.Method} {r.PathAndQuery}"));
    }
}
