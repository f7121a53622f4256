using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sluice.Proxy.Tests;

/// <summary>
/// The proxy's request edge under test: a scripted upstream (Kestrel on a loopback port the OS picks) that records the
/// target and headers each request arrived with, and the proxy hosted in front of it as a user hosts it
/// (<c>AddSluiceProxy</c>, <c>MapSluiceProxy</c>), with every log line at Warning or above captured.
/// Requests go over raw TCP so a test sends exactly the bytes it means, as curl --path-as-is would.
/// </summary>
internal sealed class EdgeHost : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly WebApplication _upstream;
    private readonly WebApplication _proxy;

    private EdgeHost(WebApplication upstream, WebApplication proxy, ConcurrentQueue<Arrival> arrivals, ConcurrentQueue<Problem> problems)
    {
        _upstream = upstream;
        _proxy = proxy;
        Arrivals = arrivals;
        Problems = problems;
        UpstreamUrl = Address(upstream);
        ProxyUrl = Address(proxy);
    }

    public Uri UpstreamUrl { get; }

    public Uri ProxyUrl { get; }

    /// <summary>Every request the upstream received, in order.</summary>
    public ConcurrentQueue<Arrival> Arrivals { get; }

    /// <summary>Log lines at Warning or above from the host and the proxy, except the proxy's own refusals.</summary>
    public ConcurrentQueue<Problem> Problems { get; }

    public SluiceProxy Proxy => _proxy.Services.GetRequiredService<SluiceProxy>();

    /// <summary>Starts an upstream answering with <paramref name="answer"/> and a proxy configured by <paramref name="configure"/>.</summary>
    /// <param name="answer">The upstream's script.</param>
    /// <param name="configure">Proxy options; the upstream named <c>up</c> at <paramref name="upstreamPath"/> is already added.</param>
    /// <param name="upstreamPath">The path of the upstream's base URL, such as <c>/api/</c>.</param>
    /// <param name="apiKey">The key the proxy holds, or null to pass clients' keys through.</param>
    /// <param name="provider">The upstream's provider.</param>
    /// <param name="otherUpstream">An upstream to forward to instead of the scripted one, such as a <see cref="RawUpstream"/>.</param>
    public static async Task<EdgeHost> StartAsync(
        Func<HttpContext, Task> answer,
        Action<SluiceProxyOptions>? configure = null,
        string upstreamPath = "/",
        string? apiKey = null,
        Sluice.Providers.ProviderKind provider = Sluice.Providers.ProviderKind.OpenAI,
        Uri? otherUpstream = null)
    {
        var arrivals = new ConcurrentQueue<Arrival>();
        var problems = new ConcurrentQueue<Problem>();
        var upstreamBuilder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        upstreamBuilder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var upstream = upstreamBuilder.Build();
        upstream.Run(http =>
        {
            string raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
            arrivals.Enqueue(new Arrival(http.Request.Method, raw, http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            return answer(http);
        });
        await upstream.StartAsync().WaitAsync(Bound);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders().AddProvider(new ProblemLogger(problems)).SetMinimumLevel(LogLevel.Warning);
        var upstreamUrl = new Uri(otherUpstream ?? Address(upstream), upstreamPath);
        builder.Services.AddSluiceProxy(options =>
        {
            options.Upstreams.Add(new ProxyUpstream { Name = "up", Url = upstreamUrl, ApiKey = apiKey, Provider = provider, IsDefault = true, Concurrency = 64 });
            options.MaxAttempts = 1;
            options.Timeout = TimeSpan.FromSeconds(20);
            configure?.Invoke(options);
        });
        var proxy = builder.Build();
        proxy.MapSluiceProxy();
        try
        {
            await proxy.StartAsync().WaitAsync(Bound);
        }
        catch
        {
            await proxy.DisposeAsync();
            await upstream.DisposeAsync();
            throw;
        }

        return new EdgeHost(upstream, proxy, arrivals, problems);
    }

    /// <summary>Answers every request 200 with a small chat completion.</summary>
    public static Task Ok(HttpContext http)
    {
        http.Response.ContentType = "application/json";
        return http.Response.WriteAsync("{\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}");
    }

    /// <summary>Sends <paramref name="head"/> (request line and headers, each ending CRLF, without the blank line) and a body; returns the whole answer.</summary>
    public async Task<RawAnswer> SendAsync(string head, byte[]? body = null, CancellationToken cancellationToken = default)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, ProxyUrl.Port, cancellationToken).AsTask().WaitAsync(Bound, cancellationToken);
        var stream = tcp.GetStream();
        byte[] headBytes = Encoding.UTF8.GetBytes(head + "Connection: close\r\n\r\n");
        await stream.WriteAsync(headBytes, cancellationToken).AsTask().WaitAsync(Bound, cancellationToken);
        if (body is not null)
        {
            await stream.WriteAsync(body, cancellationToken).AsTask().WaitAsync(Bound, cancellationToken);
        }

        using var memory = new MemoryStream();
        await stream.CopyToAsync(memory, cancellationToken).WaitAsync(Bound, cancellationToken);
        return RawAnswer.Parse(memory.ToArray());
    }

    /// <summary>A POST of <paramref name="json"/> to <paramref name="target"/> with extra header lines.</summary>
    public Task<RawAnswer> PostAsync(string target, string json = "{\"model\":\"gpt-4o-mini\",\"messages\":[]}", string extraHeaders = "")
    {
        byte[] body = Encoding.UTF8.GetBytes(json);
        return SendAsync($"POST {target} HTTP/1.1\r\nHost: {ProxyUrl.Authority}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n{extraHeaders}", body);
    }

    public async ValueTask DisposeAsync()
    {
        using (var timeout = new CancellationTokenSource(Bound))
        {
            await _proxy.StopAsync(timeout.Token);
            await _upstream.StopAsync(timeout.Token);
        }

        await _proxy.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/') + "/");

    /// <summary>A log line at Warning or above: its level, whether it carries an exception, and its text.</summary>
    public sealed record Problem(LogLevel Level, bool HasException, string Text);

    /// <summary>One request as the upstream saw it: its raw target and headers.</summary>
    public sealed record Arrival(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers);

    /// <summary>A response read off the wire: status, headers (last value wins) and body.</summary>
    public sealed record RawAnswer(int Status, IReadOnlyDictionary<string, string> Headers, string HeaderText, string Body)
    {
        public static RawAnswer Parse(byte[] bytes)
        {
            string text = Encoding.UTF8.GetString(bytes);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            string head = end < 0 ? text : text[..end];
            string body = end < 0 ? "" : text[(end + 4)..];
            string[] lines = head.Split("\r\n");
            int status = lines[0].Split(' ') is { Length: >= 2 } parts && int.TryParse(parts[1], out int s) ? s : 0;
            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (string line in lines.Skip(1))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    headers[line[..colon]] = line[(colon + 1)..].Trim();
                }
            }

            return new RawAnswer(status, headers, head, body);
        }
    }

    private sealed class ProblemLogger(ConcurrentQueue<Problem> problems) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Category(problems, categoryName);

        public void Dispose()
        {
        }

        private sealed class Category(ConcurrentQueue<Problem> problems, string name) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // The proxy's own refusals (event 301) are answers, not problems.
                if (logLevel >= LogLevel.Warning && !(name == SluiceProxy.LogCategory && eventId.Id == 301))
                {
                    problems.Enqueue(new Problem(logLevel, exception is not null, $"{logLevel} {name} [{eventId.Id}] {formatter(state, exception)} {exception}"));
                }
            }
        }
    }
}
