using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Sluice.Integration.Tests.Support;

/// <summary>
/// A server nobody on this team wrote the answers of: Kestrel on 127.0.0.1 (a port the OS picks) answering every
/// request with whatever the test scripts, and recording each request's method, path and custom id.
/// </summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Seen> _seen;

    private LoopbackServer(WebApplication app, ConcurrentQueue<Seen> seen, Uri baseUrl)
    {
        _app = app;
        _seen = seen;
        BaseUrl = baseUrl;
    }

    /// <summary>The root URL, such as <c>http://127.0.0.1:50123/</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Every request received, in order of arrival.</summary>
    public IReadOnlyList<Seen> Requests => [.. _seen];

    /// <summary>Starts answering each request with <paramref name="answer"/>.</summary>
    public static async Task<LoopbackServer> StartAsync(Func<HttpContext, Task> answer)
    {
        var seen = new ConcurrentQueue<Seen>();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(http =>
        {
            seen.Enqueue(new Seen(http.Request.Method, http.Request.Path + http.Request.QueryString, http.Request.Headers["X-Sluice-Custom-Id"].ToString()));
            return answer(http);
        });
        await app.StartAsync().WaitAsync(Bound);
        string address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new LoopbackServer(app, seen, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Writes a status, a content type (none when null) and a body.</summary>
    public static Task WriteAsync(HttpContext http, int status, string? contentType, byte[] body)
    {
        http.Response.StatusCode = status;
        if (contentType is not null)
        {
            http.Response.ContentType = contentType;
        }

        http.Response.ContentLength = body.Length;
        return http.Response.Body.WriteAsync(body, http.RequestAborted).AsTask();
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(Bound))
        {
            await _app.StopAsync(timeout.Token);
        }

        await _app.DisposeAsync();
    }

    /// <summary>One request as the server saw it.</summary>
    public sealed record Seen(string Method, string PathAndQuery, string CustomId);
}
