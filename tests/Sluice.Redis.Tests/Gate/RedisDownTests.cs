using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using Sluice.Redis.Gate;
using Sluice.Tests.Support;
using static Sluice.Redis.Tests.Gate.GateHelpers;

namespace Sluice.Redis.Tests.Gate;

/// <summary>Redis stopped mid-run and started again (empty): the processes go on alone with their share, then rejoin.</summary>
public sealed class RedisDownTests
{
    [Fact]
    public async Task RedisStoppedMidRun_ProcessesGoOnWithTheirShare_EveryWaiterEnds_NoBudgetIsExceeded_AndTheyRejoin()
    {
        // Two processes on 120 requests a minute (2 a second, burst 4) and 4 in flight.
        await using var server = await RedisServer.StartAsync();
        var limits = new PartitionLimits { RequestsPerWindow = 120, RequestBurst = 4, MaxConcurrency = 4, MaxQueueLength = 1_000 };
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        using var first = NewGate(server.Configuration, prefix, limits, time);
        using var second = NewGate(server.Configuration, prefix, limits, time);
        var gates = new[] { first, second };

        // Both have seen each other: N = 2.
        await Eventually(() => gates.All(g => RedisGate.StatusOf(g) is { Shared: true, Members: 2 }), "both processes see two members", () => time.Advance(TimeSpan.FromSeconds(1)));

        var starts = new List<(long, double)>();
        var waiting = new List<Task<GateLease>>();
        int next = 0;
        void Enqueue(int count)
        {
            for (int i = 0; i < count; i++, next++)
            {
                waiting.Add(gates[next % 2].GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask());
            }
        }

        async Task Step()
        {
            foreach (var done in waiting.Where(w => w.IsCompleted).ToList())
            {
                var lease = await Admitted(done);
                starts.Add((lease.AdmittedAt, 1));
                lease.Dispose();
                waiting.Remove(done);
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Enqueue(30);
        for (int i = 0; i < 50; i++)
        {
            await Step();
        }

        // Redis goes away with work still waiting in both processes.
        Enqueue(30);
        await server.StopAsync();
        await Eventually(() => gates.All(g => RedisGate.StatusOf(g) is { Shared: false }), "both processes noticed Redis is gone", () => _ = Step());
        Assert.All(gates, g => Assert.Equal(2, RedisGate.StatusOf(g)!.Value.Members));

        // Each runs on half of every budget and of the concurrency.
        Assert.All(gates, g => Assert.Equal(60, g.GetPartition("p").GetSnapshot().RequestsPerMinute));
        Assert.All(gates, g => Assert.Equal(2, g.GetPartition("p").GetSnapshot().ConcurrencyLimit));
        for (int i = 0; i < 100; i++)
        {
            await Step();
        }

        // Back, empty: they rejoin and charge what they admitted alone before admitting through Redis again.
        Enqueue(30);
        await server.StartAgainAsync();
        await Eventually(() => gates.All(g => RedisGate.StatusOf(g) is { Shared: true }), "both processes rejoined", () => _ = Step());
        for (int i = 0; i < 600 && waiting.Count > 0; i++)
        {
            await Step();
        }

        Assert.Empty(waiting);
        Assert.Equal(90, starts.Count);
        AssertNoWindowExceeds(starts, time, burst: 4, perSecond: 2, "requests");
    }
}
