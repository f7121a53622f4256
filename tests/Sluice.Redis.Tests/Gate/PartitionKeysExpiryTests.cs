using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using StackExchange.Redis;
using static Sluice.Redis.Tests.Gate.GateHelpers;

namespace Sluice.Redis.Tests.Gate;

/// <summary>
/// What a partition leaves in Redis is forgotten a day and a bit after its last use, so Redis holds the partitions in
/// use rather than every one ever seen (a proxy's clients choose partition keys by the keys they send).
/// </summary>
[Collection(RedisTests.Name)]
public sealed class PartitionKeysExpiryTests(RedisFixture redis)
{
    [Fact]
    public async Task EveryKeyOfAPartition_ExpiresADayAndABitAfterItsLastUse()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        using var gate = NewGate(redis.Server.Configuration, prefix, new PartitionLimits { RequestsPerWindow = 60, TokensPerWindow = 6_000, RequestsPerDay = 1_000, TokensPerDay = 100_000 }, time);
        var partition = gate.GetPartition("p");
        // Every key a partition writes: state, a slot, both per-day hashes and the waiters (a second caller waits).
        using var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest(100)).AsTask());
        using var waiting = new CancellationTokenSource();
        var waiter = partition.AcquireAsync(new AdmissionRequest(100), waiting.Token).AsTask();
        lease.Settle(80);
        partition.ObserveRequests(50, Start.AddSeconds(30), 60);

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Server.Configuration);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var database = connection.GetDatabase();
        var keys = server.Keys(pattern: prefix + ":{p}:*").ToList();

        Assert.Contains(keys, k => k.ToString().EndsWith(":state", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.ToString().EndsWith(":slots", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.ToString().EndsWith(":rpd", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.ToString().EndsWith(":tpd", StringComparison.Ordinal));
        foreach (var key in keys)
        {
            var left = await database.KeyTimeToLiveAsync(key);
            Assert.True(left is { } ttl && ttl > TimeSpan.FromHours(25) && ttl <= TimeSpan.FromHours(26), $"{key} expires in {left?.ToString() ?? "never"}");
        }

        await waiting.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.WaitAsync(Bound));
    }
}
