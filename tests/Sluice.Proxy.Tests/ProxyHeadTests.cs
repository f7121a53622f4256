using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

/// <summary>Found by fuzzing: a HEAD request whose body asks for a stream got a 500 and logged an unhandled exception.</summary>
public sealed class ProxyHeadTests
{
    [Fact]
    public async Task Head_WithABodyAskingForAStream_GetsTheHeaders_AndNothingIsLogged()
    {
        await using var host = await EdgeHost.StartAsync(async http =>
        {
            http.Response.ContentType = "text/event-stream";
            await http.Response.WriteAsync("data: {\"id\":\"x\",\"choices\":[]}\n\ndata: [DONE]\n\n");
        });
        byte[] body = Encoding.UTF8.GetBytes("{\"model\":\"gpt-4o-mini\",\"stream\":true,\"messages\":[]}");
        var answer = await host.SendAsync($"HEAD /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n", body);
        Assert.Equal(200, answer.Status);
        Assert.Empty(host.Problems);
    }
}
