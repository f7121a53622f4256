using System.Net;
using Microsoft.Extensions.Logging;
using Sluice.Cli.Proxy;
using Sluice.Gate;
using Sluice.Integration.Tests.Http;
using Sluice.Mock;
using Sluice.Providers;
using Sluice.Proxy;

namespace Sluice.Integration.Tests.Proxy;

/// <summary>
/// A mock on 127.0.0.1 and a <c>sluice proxy</c> in front of it (both on ports the OS picks), with every log line of
/// the proxy captured at every level, and a plain HttpClient pointed at the proxy.
/// </summary>
internal sealed class ProxyFixture : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private ProxyFixture(MockServer mock, ProxyServer proxy, CapturingLoggerProvider logs)
    {
        Mock = mock;
        Proxy = proxy;
        Logs = logs;
        Client = new HttpClient { BaseAddress = proxy.BaseUrl, Timeout = Bound };
    }

    public MockServer Mock { get; }

    public ProxyServer Proxy { get; }

    public CapturingLoggerProvider Logs { get; }

    public HttpClient Client { get; }

    /// <summary>The OpenAI base URL clients use.</summary>
    public Uri V1 => new(Proxy.BaseUrl, "v1");

    /// <summary>The one upstream's engine.</summary>
    public Sluice.Engine.SluiceEngine Engine => Proxy.Proxy.GetEngine("default");

    public GatePartition OnlyPartition => Assert.Single(Engine.Gate.Partitions);

    public static async Task<ProxyFixture> StartAsync(MockOptions mockOptions, Func<Uri, ProxySettings> settings)
    {
        var mock = await MockServer.StartAsync(mockOptions).WaitAsync(Bound);
        var logs = new CapturingLoggerProvider();
        try
        {
            var proxy = await ProxyServer.StartAsync(settings(mock.BaseUrl), logging => logging
                .AddProvider(logs)
                .SetMinimumLevel(LogLevel.Trace)
                .AddFilter("Microsoft", LogLevel.Trace)
                .AddFilter("System", LogLevel.Trace)
                .AddFilter("Sluice", LogLevel.Trace)).WaitAsync(Bound);
            return new ProxyFixture(mock, proxy, logs);
        }
        catch
        {
            await mock.DisposeAsync();
            throw;
        }
    }

    /// <summary>Settings for one upstream at <paramref name="url"/> on an OS-chosen loopback port.</summary>
    public static ProxySettings Single(Uri url, int? rpm = null, long? tpm = null, int? concurrency = null, string? apiKey = null, ProviderKind provider = ProviderKind.OpenAI) => new()
    {
        Listen = new IPEndPoint(IPAddress.Loopback, 0),
        Upstreams =
        [
            new ProxyUpstream
            {
                Name = "default",
                Url = url,
                Provider = provider,
                RequestsPerMinute = rpm,
                TokensPerMinute = tpm,
                Concurrency = concurrency,
                ApiKey = apiKey,
                ApiKeyEnv = apiKey is null ? null : "TEST_UPSTREAM_KEY",
                IsDefault = true,
            },
        ],
        Timeout = TimeSpan.FromSeconds(20),
        DrainTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Waits, bounded, until <paramref name="condition"/> holds; false if it never did.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = TimeProvider.System.GetTimestamp();
        var limit = within ?? TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(deadline) > limit)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Proxy.DisposeAsync();
        await Mock.DisposeAsync();
    }
}
