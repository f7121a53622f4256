using Sluice.Tests.Support;

namespace Sluice.Redis.Tests;

/// <summary>One real redis-server for the whole collection; each test isolates itself with a key prefix of its own.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    internal RedisServer Server => _server ?? throw new InvalidOperationException("Redis has not started.");

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..12];

    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The tests that share <see cref="RedisFixture"/>'s Redis.</summary>
[CollectionDefinition(Name)]
public sealed class RedisTests : ICollectionFixture<RedisFixture>
{
    public const string Name = "redis";
}
