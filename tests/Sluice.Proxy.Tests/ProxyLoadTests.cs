using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Sluice.Proxy.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProxyLoadRuns
{
    public const string Name = "proxy load";
}

/// <summary>
/// Load held (issue 14): 10,000 clients waiting at once at the proxy, on loopback, every one answered and the memory
/// bounded. The upstream holds every request it gets until the test lets go, and the upstream's concurrency is 4, so
/// 9,996 requests wait in the gate's queue at once; then the upstream answers, and all 10,000 get a 200. Clients
/// speak HTTP/2 (100 streams on each of 100 connections): one process cannot hold 10,000 HTTP/1.1 connections at both
/// ends under this machine's limit of 20,000 open files. Nothing is timed; every wait is bounded.
/// The figures are in docs/benchmarks.md ("Load held").
/// </summary>
[Collection(ProxyLoadRuns.Name)]
public sealed class ProxyLoadTests(ITestOutputHelper output)
{
    private const int Clients = 10_000;
    private const int UpstreamConcurrency = 4;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task TenThousandClientsWaiting_AreAllAnswered_WithMemoryBounded()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await StartAsync(builder => { }, app => app.Run(async http =>
        {
            await release.Task.WaitAsync(Bound);
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync("""{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"}}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}""");
        }));
        await using var proxy = await StartAsync(
            builder =>
            {
                builder.Logging.ClearProviders();
                builder.Services.AddSluiceProxy(options =>
                {
                    options.Upstreams.Add(new ProxyUpstream { Name = "tiny", Url = Address(upstream), Concurrency = UpstreamConcurrency, IsDefault = true });
                    options.MaxWait = Bound;
                });
            },
            app => app.MapSluiceProxy(),
            http2: true);
        var gate = proxy.Services.GetRequiredService<SluiceProxy>().GetEngine("tiny").Gate;
        using var client = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })
        {
            BaseAddress = Address(proxy),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Bound,
        };

        // Baseline after a first request has warmed both servers, the engine and the client.
        release.SetResult();
        using (var warm = await client.PostAsync("/v1/chat/completions", Body()).WaitAsync(Bound))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var baseline = Memory.Now();

        var sampler = new Memory.PeakSampler();
        var answers = Enumerable.Range(0, Clients).Select(async _ =>
        {
            using var answer = await client.PostAsync("/v1/chat/completions", Body()).ConfigureAwait(false);
            return answer.StatusCode;
        }).ToList();

        // Every client is held: UpstreamConcurrency with the upstream, the rest waiting in the gate's queue.
        bool allWaiting = await EventuallyAsync(() => gate.Partitions.Sum(p => p.GetSnapshot().Queued) == Clients - UpstreamConcurrency);
        var held = Memory.Now();
        int queued = gate.Partitions.Sum(p => p.GetSnapshot().Queued);
        release.SetResult();
        var statuses = await Task.WhenAll(answers).WaitAsync(Bound);
        var peak = sampler.Stop();

        output.WriteLine($"clients {Clients}, queued at once {queued}; baseline {baseline}; all waiting {held}; peak working set {peak / (1024 * 1024)} MiB");
        Assert.True(allWaiting, $"expected {Clients - UpstreamConcurrency} waiting, saw {queued}");
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));

        // Generous bounds: the whole test process (clients, proxy, upstream) held 10,000 requests in well under these.
        long perRequest = (held.ManagedBytes - baseline.ManagedBytes) / Clients;
        output.WriteLine($"managed memory per held request (client side included): {perRequest} bytes");
        Assert.True(held.ManagedBytes < 600L * 1024 * 1024, $"managed heap {held.ManagedBytes} bytes");
        Assert.True(peak < 1_500L * 1024 * 1024, $"peak working set {peak} bytes");
    }

    private static StringContent Body() => new("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":8}""", Encoding.UTF8, "application/json");

    private static async Task<WebApplication> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication> map, bool http2 = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = http2 ? HttpProtocols.Http2 : HttpProtocols.Http1);
            kestrel.Limits.Http2.MaxStreamsPerConnection = 100;
        });
        configure(builder);
        var app = builder.Build();
        map(app);
        await app.StartAsync().WaitAsync(Bound);
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > Bound)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        return true;
    }

    /// <summary>The process's memory: managed heap after a full collection, and working set.</summary>
    private readonly record struct Memory(long ManagedBytes, long WorkingSet)
    {
        public static Memory Now()
        {
            long managed = GC.GetTotalMemory(forceFullCollection: true);
            using var process = Process.GetCurrentProcess();
            return new Memory(managed, process.WorkingSet64);
        }

        public override string ToString() => $"managed {ManagedBytes / (1024.0 * 1024):F1} MiB, working set {WorkingSet / (1024.0 * 1024):F1} MiB";

        /// <summary>Samples the working set every 50 ms on a timer until stopped, keeping the highest.</summary>
        public sealed class PeakSampler
        {
            private readonly ITimer _timer;
            private long _peak;

            public PeakSampler() => _timer = TimeProvider.System.CreateTimer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));

            public long Stop()
            {
                _timer.Dispose();
                Sample();
                return Interlocked.Read(ref _peak);
            }

            private void Sample()
            {
                using var process = Process.GetCurrentProcess();
                long now = process.WorkingSet64;
                long seen;
                while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen)
                {
                }
            }
        }
    }
}
