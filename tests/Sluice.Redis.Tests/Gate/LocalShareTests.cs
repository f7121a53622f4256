using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using Sluice.Redis.Gate;
using Sluice.Tests.Support;
using static Sluice.Redis.Tests.Gate.GateHelpers;

namespace Sluice.Redis.Tests.Gate;

/// <summary>
/// The local share with no budget configured, the common case (budgets learned from the provider's headers): it must
/// pace as the in-process gate would, not storm the provider before it knows the budget or after Redis goes away.
/// </summary>
public sealed class LocalShareTests
{
    // As `sluice run` makes them: no budget, adaptive concurrency up to 256.
    private static readonly PartitionLimits Learned = new() { MaxConcurrency = 256, AdaptiveConcurrency = true, MaxQueueLength = 1_000 };

    [Fact]
    public async Task RedisNeverReached_OneRequestGoesAloneUntilTheFirstAnswer_ThenNoFasterThanTheBudgetItStated()
    {
        var time = new FakeTimeProvider(Start);
        using var gate = RedisGate.Create(
            new RedisGateOptions { Configuration = ClosedPort(), KeyPrefix = RedisFixture.NewPrefix(), OperationTimeout = TimeSpan.FromSeconds(1) },
            new GateOptions { DefaultLimits = Learned },
            time);
        Assert.Equal(new RedisGateStatus(false, 1, Start), RedisGate.StatusOf(gate));

        var partition = (SharedPartition)gate.GetPartition("p");
        var run = new Run(time);
        run.Enqueue(partition, 30);

        // Nothing is known of the provider's budget before the first answer: one request goes alone.
        await Eventually(() => partition.GetSnapshot().InFlight > 0, "the first request is admitted");
        for (int i = 0; i < 20; i++)
        {
            await run.Step(release: false);
        }

        Assert.Single(run.Admitted);
        Assert.Equal(1, partition.GetSnapshot().InFlight);

        // Its answer states 60 requests a minute (59 left): the rest go no faster than one a second.
        partition.ObserveBudget(BudgetDimension.Requests, 59, time.GetUtcNow() + TimeSpan.FromMinutes(1), 60);
        partition.HeardHeaders();
        await run.UntilDone();

        Assert.Equal(30, run.Starts.Count);

        // A pump thread may read the clock one step before the local partition admits: one start of slack.
        AssertNoWindowExceeds(run.Starts, time, burst: 2, perSecond: 1, "requests");

        // Away since the gate was made, however long the run.
        Assert.Equal(new RedisGateStatus(false, 1, Start), RedisGate.StatusOf(gate));
    }

    [Fact]
    public async Task RedisGoesAway_TheBudgetLearnedThroughRedisPacesTheLocalShare_FromAnEmptyBucket()
    {
        await using var server = await RedisServer.StartAsync();
        var time = new FakeTimeProvider(Start);
        using var gate = NewGate(server.Configuration, RedisFixture.NewPrefix(), Learned, time);
        var partition = (SharedPartition)await Listening(gate, "p");

        // Shared: the provider stated 60 requests a minute.
        using (var first = await Admitted(partition.AcquireAsync(new AdmissionRequest()).AsTask()))
        {
            partition.ObserveBudget(BudgetDimension.Requests, 59, time.GetUtcNow() + TimeSpan.FromMinutes(1), 60);
            partition.HeardHeaders();
        }

        await Eventually(() => partition.GetSnapshot().RequestsPerMinute == 60, "the stated budget is in force through Redis");

        await server.StopAsync();
        var run = new Run(time);
        await Eventually(() => RedisGate.StatusOf(gate) is { Shared: false }, "the gate noticed Redis is gone", () => time.Advance(TimeSpan.FromMilliseconds(100)));
        var away = time.GetTimestamp();
        run.Enqueue(partition, 20);
        await run.UntilDone();

        // What was admitted through Redis just before still counts: the share starts empty and refills at one a second.
        Assert.Equal(60, partition.GetSnapshot().RequestsPerMinute);
        var starts = run.Starts.Where(s => s.At >= away).ToList();
        Assert.Equal(20, starts.Count);
        starts.Add((away, 1));
        AssertNoWindowExceeds(starts, time, burst: 2, perSecond: 1, "requests");
    }

    /// <summary>A port nothing listens on: one the system just handed out and was given back.</summary>
    private static string ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port}";
    }

    /// <summary>Callers waiting at a partition, the fake clock stepped 100 ms at a time, every admission recorded.</summary>
    private sealed class Run(FakeTimeProvider time)
    {
        private readonly List<Task<GateLease>> _waiting = [];

        public List<GateLease> Admitted { get; } = [];

        public List<(long At, double Cost)> Starts { get; } = [];

        public void Enqueue(GatePartition partition, int count)
        {
            for (int i = 0; i < count; i++)
            {
                _waiting.Add(partition.AcquireAsync(new AdmissionRequest()).AsTask());
            }
        }

        /// <summary>Records what was admitted (releasing it at once if asked, as an answer would), then moves the clock.</summary>
        public async Task Step(bool release)
        {
            foreach (var done in _waiting.Where(w => w.IsCompleted).ToList())
            {
                var lease = await GateHelpers.Admitted(done);
                Admitted.Add(lease);
                Starts.Add((lease.AdmittedAt, 1));
                _waiting.Remove(done);
            }

            if (release)
            {
                foreach (var lease in Admitted)
                {
                    lease.Dispose();
                }
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }

        public async Task UntilDone()
        {
            long started = TimeProvider.System.GetTimestamp();
            while (_waiting.Count > 0)
            {
                Assert.True(TimeProvider.System.GetElapsedTime(started) < Bound * 2, $"not within {Bound * 2}: {_waiting.Count} callers still waiting");
                await Step(release: true);
            }
        }
    }
}
