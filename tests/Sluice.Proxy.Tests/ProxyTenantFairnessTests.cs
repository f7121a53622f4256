using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Gate;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Proxy.Tests;

/// <summary>
/// Two tenants by key, weights 3 and 1, both saturating one small request budget through the proxy against the mock:
/// while both are backlogged, the gate admits them 75% / 25%, and the mock sees no more than its budget. The shares
/// are counted from the gate's snapshot between two moments when both tenants have requests waiting, so a slow box
/// only makes the run longer: the order of admissions, not their speed, is what is measured.
/// </summary>
[Collection(ProxyLoadRuns.Name)]
public sealed class ProxyTenantFairnessTests(ITestOutputHelper output)
{
    private const string AppKey = "sk-sluice-fair-app-1a2b3c4d5e";
    private const string BatchKey = "sk-sluice-fair-batch-6f7a8b9c0d";
    private const string UpstreamKey = "sk-upstream-fair-held";
    private const int Rpm = 600;
    private const int PerTenant = 100;
    private const int Counted = 40;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task TwoTenants_Weights3To1_SaturatingOneBudget_Get75And25Percent_AndTheMockSeesNoMoreThanItsBudget()
    {
        await using var mock = await MockServer.StartAsync(new MockOptions { Limits = new MockLimits { RequestsPerMinute = Rpm } }).WaitAsync(Bound);
        var logs = new ConcurrentQueue<string>();
        await using var app = await StartAsync(mock.BaseUrl, logs);
        var proxy = app.Services.GetRequiredService<SluiceProxy>();
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 2 * PerTenant + 4 }) { BaseAddress = BaseUrl(app), Timeout = Bound };
        using var stop = new CancellationTokenSource();

        var sent = new[] { (Key: AppKey, Name: "app"), (Key: BatchKey, Name: "batch") }
            .SelectMany(t => Enumerable.Range(0, PerTenant).Select(_ => SendAsync(client, t.Key, stop.Token)))
            .ToList();

        // Every request has arrived (waiting, in flight or admitted), and both tenants have some waiting: the baseline.
        var baseline = await WaitForAsync(proxy, s => s.Count == 2 && s.All(t => t.Waiting > 0 && t.Waiting + t.InFlight + t.Admitted >= PerTenant) ? s : null);
        // Then admissions go on at the budget's pace; the last snapshot with both still waiting is the window's end.
        IReadOnlyList<TenantSnapshot>? last = null;
        var series = new List<IReadOnlyList<TenantSnapshot>> { baseline };
        await WaitForAsync(proxy, s =>
        {
            if (s.Count != 2 || s.Any(t => t.Waiting == 0))
            {
                return s;
            }

            last = s;
            series.Add(s);
            return Admitted(s) - Admitted(baseline) >= Counted ? s : null;
        });

        await stop.CancelAsync();
        await Task.WhenAll(sent).WaitAsync(Bound);

        Assert.NotNull(last);
        long appAdmitted = One(last, "app").Admitted - One(baseline, "app").Admitted;
        long total = Admitted(last) - Admitted(baseline);
        double appShare = (double)appAdmitted / total;
        var stats = mock.GetStats();
        output.WriteLine($"while both were backlogged: {total} admissions, app {appAdmitted} ({appShare:P1}), batch {total - appAdmitted}; mock received {stats.Received}, rejected {string.Join(", ", stats.Rejected)}, violations {stats.BudgetViolations.Total}");
        Assert.True(total >= Counted / 2, $"only {total} admissions were counted while both tenants waited");
        Assert.InRange(appShare, 0.65, 0.85);
        // And over every window of at least 20 admissions inside it, from any snapshot to the first one 20 later.
        for (int i = 0; i < series.Count; i++)
        {
            int j = series.FindIndex(i, s => Admitted(s) - Admitted(series[i]) >= Counted / 2);
            if (j > 0)
            {
                double share = (double)(One(series[j], "app").Admitted - One(series[i], "app").Admitted) / (Admitted(series[j]) - Admitted(series[i]));
                Assert.InRange(share, 0.6, 0.9);
            }
        }

        // The mock's own audit of what it received against its budget. (Its bucket, started apart from the gate's, may
        // still answer a few early requests 429 at the start; the proxy waits and retries those, and they are counted above.)
        Assert.Equal(0, stats.BudgetViolations.Requests);
        // Nothing the proxy logged, at any level, holds a key.
        Assert.DoesNotContain(logs, l => l.Contains(AppKey, StringComparison.Ordinal) || l.Contains(BatchKey, StringComparison.Ordinal) || l.Contains(UpstreamKey, StringComparison.Ordinal));
    }

    private static long Admitted(IReadOnlyList<TenantSnapshot> tenants) => tenants.Sum(t => t.Admitted);

    private static TenantSnapshot One(IReadOnlyList<TenantSnapshot> tenants, string name) => tenants.Single(t => t.Name == name);

    /// <summary>Polls the one partition's tenants until <paramref name="done"/> returns them; bounded in real time.</summary>
    private static async Task<IReadOnlyList<TenantSnapshot>> WaitForAsync(SluiceProxy proxy, Func<IReadOnlyList<TenantSnapshot>, IReadOnlyList<TenantSnapshot>?> done)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (true)
        {
            var tenants = proxy.GetEngine("mock").Gate.Partitions.SelectMany(p => p.GetSnapshot().Tenants).ToList();
            if (done(tenants) is { } result)
            {
                return result;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System, timeout.Token);
        }
    }

    private static async Task SendAsync(HttpClient client, string key, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 5 }),
        };
        request.Headers.Authorization = new("Bearer", key);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Requests still waiting when the window is counted are let go.
        }
    }

    private static Task<WebApplication> StartAsync(Uri upstream, ConcurrentQueue<string> logs) =>
        LoopbackProxyHost.StartAsync(
            builder =>
            {
                builder.Logging.ClearProviders().AddProvider(new EveryLog(logs)).SetMinimumLevel(LogLevel.Trace);
                builder.Services.AddSluiceProxy(options =>
                {
                    options.Upstreams.Add(new ProxyUpstream { Name = "mock", Url = upstream, ApiKey = UpstreamKey, RequestsPerMinute = Rpm, Concurrency = 64, IsDefault = true });
                    options.Tenants.Add(new ProxyTenant { Name = "app", KeySha256 = ProxyTenant.HashKey(AppKey), Weight = 3 });
                    options.Tenants.Add(new ProxyTenant { Name = "batch", KeySha256 = ProxyTenant.HashKey(BatchKey), Weight = 1 });
                    options.MaxWait = Bound;
                });
            },
            Bound);

    private static Uri BaseUrl(WebApplication app) => LoopbackProxyHost.BaseUrl(app);

    /// <summary>Every log line, at every level, as text with its arguments.</summary>
    private sealed class EveryLog(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Category(lines, categoryName);

        public void Dispose()
        {
        }

        private sealed class Category(ConcurrentQueue<string> lines, string name) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {name} {formatter(state, exception)} {state} {exception}");
        }
    }
}
