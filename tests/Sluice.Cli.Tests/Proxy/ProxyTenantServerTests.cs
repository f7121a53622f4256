using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Sluice.Cli.Proxy;
using Sluice.Mock;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

/// <summary>
/// <c>sluice proxy</c> with tenants, as the command runs it (the host with <c>/metrics</c>), against the mock: the
/// tenant is a label in the Prometheus text, and no key — tenant, proxy or upstream — appears in the metrics, the
/// status or any log line at any level.
/// </summary>
public sealed class ProxyTenantServerTests
{
    private const string AppKey = "sk-sluice-server-app-93e1";
    private const string UpstreamKey = "sk-upstream-server-5b7c";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Metrics_LabelTheTenant_AndNoKeyAppearsInMetricsStatusOrLogs()
    {
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(Bound);
        var logs = new ConcurrentQueue<string>();
        var settings = new ProxySettings
        {
            Listen = new IPEndPoint(IPAddress.Loopback, 0),
            Upstreams = [new ProxyUpstream { Name = "default", Url = mock.BaseUrl, ApiKey = UpstreamKey, ApiKeyEnv = "OPENAI_API_KEY", IsDefault = true, Concurrency = 8 }],
            Tenants = [new ProxyTenant { Name = "app", KeySha256 = ProxyTenant.HashKey(AppKey), Weight = 3 }],
            TenantHeader = "x-sluice-tenant",
        };
        await using var server = await ProxyServer.StartAsync(settings, logging => logging.AddProvider(new EveryLog(logs)).SetMinimumLevel(LogLevel.Trace)).WaitAsync(Bound);
        using var client = new HttpClient { BaseAddress = server.BaseUrl, Timeout = Bound };
        client.DefaultRequestHeaders.Authorization = new("Bearer", AppKey);

        using var answer = await client.PostAsJsonAsync("v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }).WaitAsync(Bound);
        string status = await client.GetStringAsync("sluice/status").WaitAsync(Bound);
        string metrics = await client.GetStringAsync("metrics").WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("tenant=\"app\"", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_proxy_tenant_answered", metrics, StringComparison.Ordinal);
        Assert.Contains("\"source\":\"key\"", status, StringComparison.Ordinal);
        foreach (string secret in new[] { AppKey, UpstreamKey, ProxyTenant.HashKey(AppKey) })
        {
            Assert.DoesNotContain(secret, metrics, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, status, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(logs, l => l.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Every log line, at every level, with its arguments.</summary>
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
