using Microsoft.Extensions.Logging;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Http;

/// <summary>A mock on 127.0.0.1 (a port the OS picks) and an HttpClient whose handler is Sluice's.</summary>
internal sealed class MockFixture : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private MockFixture(MockServer mock, SluiceHandler handler, HttpClient client)
    {
        Mock = mock;
        Handler = handler;
        Client = client;
    }

    public MockServer Mock { get; }

    public SluiceHandler Handler { get; }

    public HttpClient Client { get; }

    public GatePartition OnlyPartition => Assert.Single(Handler.Gate.Partitions);

    public static async Task<MockFixture> StartAsync(MockOptions mockOptions, SluiceHandlerOptions sluiceOptions, ILoggerFactory? loggerFactory = null)
    {
        var mock = await MockServer.StartAsync(mockOptions).WaitAsync(Bound);
        var handler = new SluiceHandler(sluiceOptions, loggerFactory: loggerFactory) { InnerHandler = new SocketsHttpHandler() };
        var client = new HttpClient(handler) { BaseAddress = mock.BaseUrl, Timeout = Bound };
        client.DefaultRequestHeaders.Authorization = new("Bearer", "sk-test-secret-key-1");
        return new MockFixture(mock, handler, client);
    }

    public static SluiceHandlerOptions FastRetries(PartitionLimits? limits = null) => new()
    {
        DefaultLimits = limits ?? new PartitionLimits(),
        Retry = new Dispatch.DispatcherOptions
        {
            MaxAttempts = 8,
            BaseRetryDelay = TimeSpan.FromMilliseconds(10),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            AttemptTimeout = TimeSpan.FromSeconds(20),
            MinRetriesPerSecond = 100,
        },
    };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Mock.DisposeAsync();
    }
}
