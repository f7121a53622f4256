using System.Net.Sockets;
using Sluice.Tests.Support;

namespace Sluice.Redis.Tests;

/// <summary>The Redis the tests start: answers on its port, goes away when stopped, comes back empty on the same port.</summary>
public sealed class RedisServerTests
{
    [Fact]
    public async Task StartStopStartAgain_ListensOnTheSamePort_OnlyWhileRunning()
    {
        await using var redis = await RedisServer.StartAsync();
        Assert.True(redis.IsRunning);
        Assert.True(await Connects(redis.Port));

        await redis.StopAsync();
        Assert.False(redis.IsRunning);
        Assert.False(await Connects(redis.Port));

        await redis.StartAgainAsync();
        Assert.True(redis.IsRunning);
        Assert.True(await Connects(redis.Port));
    }

    private static async Task<bool> Connects(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port).WaitAsync(TimeSpan.FromSeconds(5));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
