using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;
using Sluice.Redis.Gate;
using static Sluice.Redis.Tests.Gate.GateHelpers;

namespace Sluice.Redis.Tests.Gate;

/// <summary>Several gates on one Redis and one clock, standing for processes: they share one partition's every limit.</summary>
[Collection(RedisTests.Name)]
public sealed class SharedGateTests(RedisFixture redis)
{
    [Fact]
    public async Task Concurrency_IsSharedByEveryProcess_AndAReleaseElsewhereWakesAWaiter()
    {
        const int limit = 3;
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var gates = Enumerable.Range(0, 3).Select(_ => NewGate(redis.Server.Configuration, prefix, new PartitionLimits { MaxConcurrency = limit }, time)).ToArray();
        var partitions = new List<GatePartition>();
        foreach (var gate in gates)
        {
            partitions.Add(await Listening(gate, "p"));
        }

        int inside = 0;
        int most = 0;

        // The clock never moves, so no timer or poll fires: every waiter is woken by a release, here or in another process.
        async Task Worker(GatePartition partition)
        {
            for (int i = 0; i < 25; i++)
            {
                using var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest()).AsTask());
                int now = Interlocked.Increment(ref inside);
                int seen;
                while ((seen = Volatile.Read(ref most)) < now && Interlocked.CompareExchange(ref most, now, seen) != seen)
                {
                }

                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(partitions.SelectMany(p => Enumerable.Range(0, 4).Select(_ => Task.Run(() => Worker(p))))).WaitAsync(Bound * 2);

        Assert.All(gates, g => Assert.True(RedisGate.StatusOf(g)!.Value.Shared, $"fell back at {RedisGate.StatusOf(g)}"));
        Assert.InRange(most, 1, limit);

        // Releases are sent, not awaited: the last ones from the other processes may still be on their way.
        await Eventually(() => gates[0].GetPartition("p").GetSnapshot().InFlight == 0, "every slot released");
        foreach (var gate in gates)
        {
            gate.Dispose();
        }
    }

    [Fact]
    public async Task AWaiterInOneProcess_IsWokenByAReleaseInAnother()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        using var first = NewGate(redis.Server.Configuration, prefix, new PartitionLimits { MaxConcurrency = 1 }, time);
        using var second = NewGate(redis.Server.Configuration, prefix, new PartitionLimits { MaxConcurrency = 1 }, time);
        var holder = await Admitted((await Listening(first, "p")).AcquireAsync(new AdmissionRequest()).AsTask());
        var waiter = (await Listening(second, "p")).AcquireAsync(new AdmissionRequest()).AsTask();
        Assert.False(waiter.IsCompleted, "the only slot is held by the other process");
        Assert.Equal(1, second.GetPartition("p").GetSnapshot().InFlight);

        holder.Dispose();

        // No time passes: only the other process's announcement can wake it.
        (await Admitted(waiter)).Dispose();
    }

    [Fact]
    public async Task RequestAndTokenBudgets_AreNeverExceededInAnyWindow_AcrossProcesses()
    {
        // 120 requests a minute (2 a second, burst 4) and 6,000 tokens a minute (100 a second, burst 600), shared by three.
        var limits = new PartitionLimits { RequestsPerWindow = 120, RequestBurst = 4, TokensPerWindow = 6_000, TokenBurst = 600, MaxQueueLength = 1_000 };
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var gates = Enumerable.Range(0, 3).Select(_ => NewGate(redis.Server.Configuration, prefix, limits, time)).ToArray();
        var random = new Random(7);
        var waiting = Enumerable.Range(0, 90)
            .Select(i => gates[i % 3].GetPartition("p").AcquireAsync(new AdmissionRequest(random.Next(20, 200))).AsTask())
            .ToList();
        var requests = new List<(long, double)>();
        var tokens = new List<(long, double)>();

        for (int step = 0; step < 2_000 && waiting.Count > 0; step++)
        {
            foreach (var done in waiting.Where(w => w.IsCompleted).ToList())
            {
                var lease = await Admitted(done);
                requests.Add((lease.AdmittedAt, 1));
                tokens.Add((lease.AdmittedAt, lease.ReservedTokens));
                lease.Dispose();
                waiting.Remove(done);
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Empty(waiting);
        AssertNoWindowExceeds(requests, time, burst: 4, perSecond: 2, "requests");
        AssertNoWindowExceeds(tokens, time, burst: 600, perSecond: 100, "tokens");
        foreach (var gate in gates)
        {
            gate.Dispose();
        }
    }

    [Fact]
    public async Task AProcessThatDies_FreesItsSlots_OnceTheirTimeToLiveHasPassed()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var limits = new PartitionLimits { MaxConcurrency = 2 };
        var dying = NewGate(redis.Server.Configuration, prefix, limits, time, TimeSpan.FromSeconds(3));
        using var survivor = NewGate(redis.Server.Configuration, prefix, limits, time, TimeSpan.FromSeconds(3));
        await Admitted(dying.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask());
        await Admitted(dying.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask());
        var waiter = survivor.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask();

        // Killed: its leases are never disposed, its slots never renewed.
        ((SharedGate)dying).Abandon();

        for (int i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            Assert.False(waiter.IsCompleted, $"the dead process's slots still count {(i + 1) * 0.5} s after it died");
        }

        time.Advance(TimeSpan.FromMilliseconds(1_000));
        (await Admitted(waiter)).Dispose();
    }

    [Fact]
    public async Task ALiveProcess_KeepsItsSlots_PastTheirTimeToLive()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var limits = new PartitionLimits { MaxConcurrency = 1 };
        using var holder = NewGate(redis.Server.Configuration, prefix, limits, time, TimeSpan.FromSeconds(3));
        using var other = NewGate(redis.Server.Configuration, prefix, limits, time, TimeSpan.FromSeconds(3));
        using var lease = await Admitted(holder.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask());
        var waiter = other.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask();

        for (int i = 0; i < 20; i++)
        {
            // The holder renews every second (a third of the TTL); let each renewal reach Redis before moving on.
            time.Advance(TimeSpan.FromMilliseconds(500));
            await Eventually(() => Renewed(holder), "the renewal reached Redis");
            Assert.False(waiter.IsCompleted, $"a renewed slot was taken {(i + 1) * 0.5} s in");
        }

        lease.Dispose();
        (await Admitted(waiter)).Dispose();
    }

    [Fact]
    public async Task StopAndPause_InOneProcess_HoldEveryOther()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var limits = new PartitionLimits { MaxConcurrency = 1 };
        using var first = NewGate(redis.Server.Configuration, prefix, limits, time);
        using var second = NewGate(redis.Server.Configuration, prefix, limits, time);
        await Listening(first, "p");
        var holder = await Admitted((await Listening(second, "p")).AcquireAsync(new AdmissionRequest()).AsTask());
        var waiter = second.GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask();

        first.GetPartition("p").Stop("quota exhausted");

        var stopped = await waiter.WaitAsync(Bound);
        Assert.Equal(GateRejectionReason.Stopped, stopped.Rejection);
        Assert.Equal("quota exhausted", stopped.RejectionMessage);
        Assert.Equal("quota exhausted", second.GetPartition("p").GetSnapshot().StopReason);
        holder.Dispose();

        first.GetPartition("p").Resume();
        await Eventually(() => second.GetPartition("p").GetSnapshot().StopReason is null, "the resume reached the other process");
        await Eventually(() => second.GetPartition("p").TryAcquire(new AdmissionRequest()) is { IsAdmitted: true } lease && Release(lease), "admitted again");

        first.GetPartition("p").PauseUntil(time.GetUtcNow().AddSeconds(10));
        await Eventually(() => Refused(second.GetPartition("p")), "the pause reached Redis");
        var refused = second.GetPartition("p").TryAcquire(new AdmissionRequest());
        Assert.Equal(TimeSpan.FromSeconds(10), refused.RetryAfter);
        Assert.Equal(Start.AddSeconds(10), second.GetPartition("p").GetSnapshot().PausedUntil);
    }

    [Fact]
    public async Task TheProvidersView_InOneProcess_LowersTheAllowanceOfEveryOther()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var limits = new PartitionLimits { RequestsPerWindow = 600 };
        using var first = NewGate(redis.Server.Configuration, prefix, limits, time);
        using var second = NewGate(redis.Server.Configuration, prefix, limits, time);

        // The provider says 60 a minute, none left, whole again in 30 seconds.
        first.GetPartition("p").ObserveBudget(BudgetDimension.Requests, 0, time.GetUtcNow().AddSeconds(30), 60);

        await Eventually(() => second.GetPartition("p").GetSnapshot().RequestsPerMinute == 60, "the stated limit reached the other process");
        var snapshot = second.GetPartition("p").GetSnapshot();
        Assert.Equal(BudgetSource.Headers, snapshot.RequestBudgetSource);
        Assert.True(snapshot.RequestsAvailable <= 1e-9, $"the provider said nothing is left; {snapshot.RequestsAvailable} is");
        Assert.False(second.GetPartition("p").TryAcquire(new AdmissionRequest()).IsAdmitted);
    }

    [Fact]
    public async Task APerDayBudget_IsSharedByEveryProcess()
    {
        var time = new FakeTimeProvider(Start);
        string prefix = RedisFixture.NewPrefix();
        var limits = new PartitionLimits { RequestsPerDay = 5 };
        using var first = NewGate(redis.Server.Configuration, prefix, limits, time);
        using var second = NewGate(redis.Server.Configuration, prefix, limits, time);
        for (int i = 0; i < 5; i++)
        {
            (await Admitted((i % 2 == 0 ? first : second).GetPartition("p").AcquireAsync(new AdmissionRequest()).AsTask())).Dispose();
            time.Advance(TimeSpan.FromMinutes(10));
        }

        var refused = second.GetPartition("p").TryAcquire(new AdmissionRequest());

        // The first came in minute 0, counted until a day after that minute ends: 24 h 1 min from the start, 40 min from now.
        Assert.False(refused.IsAdmitted);
        Assert.Equal(TimeSpan.FromDays(1) + TimeSpan.FromMinutes(1) - TimeSpan.FromMinutes(50), refused.RetryAfter);
        Assert.Equal(0, first.GetPartition("p").GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.RequestsPerDay).Available);
    }

    private static bool Release(GateLease lease)
    {
        lease.Dispose();
        return true;
    }

    /// <summary>True when a caller would be refused now; an admission on the way there is given back.</summary>
    private static bool Refused(GatePartition partition)
    {
        using var lease = partition.TryAcquire(new AdmissionRequest());
        return !lease.IsAdmitted;
    }

    private static bool Renewed(SluiceGate gate) => ((SharedGate)gate).PendingHeartbeats == 0;

    [Fact]
    public async Task Tenant_OwnLimitsAreNotApplied_AndTheSharedGateListsNoTenants()
    {
        var time = new FakeTimeProvider(Start);
        using var gate = NewGate(redis.Server.Configuration, RedisFixture.NewPrefix(), new PartitionLimits { MaxConcurrency = 2 }, time);
        var partition = await Listening(gate, "p");
        var tenant = new GateTenant("team") { Weight = 3, Limits = new TenantLimits { MaxConcurrency = 1 } };

        // The tenant's own concurrency of one is not applied: the Redis gate orders by tenant, it does not limit by one.
        using var first = await Admitted(partition.AcquireAsync(new AdmissionRequest { Tenant = tenant }).AsTask());
        using var second = await Admitted(partition.AcquireAsync(new AdmissionRequest { Tenant = tenant }).AsTask());

        Assert.Empty(partition.GetSnapshot().Tenants);
    }

    [Fact]
    public async Task LocalWaiters_AreServedInFairShareAmongTenants()
    {
        var time = new FakeTimeProvider(Start);
        using var gate = NewGate(redis.Server.Configuration, RedisFixture.NewPrefix(), new PartitionLimits { MaxConcurrency = 1 }, time);
        var partition = await Listening(gate, "p");
        var a = new GateTenant("a");
        var b = new GateTenant("b");
        var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest { Tenant = a }).AsTask());

        // Four of a's arrive before two of b's; a has already had one admission, so b goes first, then they alternate.
        var pending = new List<(string Name, Task<GateLease> Task)>();
        for (int i = 1; i <= 4; i++)
        {
            pending.Add(($"a{i}", partition.AcquireAsync(new AdmissionRequest { Tenant = a }).AsTask()));
        }

        pending.Add(("b1", partition.AcquireAsync(new AdmissionRequest { Tenant = b }).AsTask()));
        pending.Add(("b2", partition.AcquireAsync(new AdmissionRequest { Tenant = b }).AsTask()));
        holder.Dispose();

        var order = new List<string>();
        while (pending.Count > 0)
        {
            var done = await Task.WhenAny(pending.Select(p => p.Task)).WaitAsync(Bound);
            var next = pending.Single(p => p.Task == done);
            pending.Remove(next);
            order.Add(next.Name);
            (await Admitted(next.Task)).Dispose();
        }

        Assert.Equal(["b1", "a1", "b2", "a2", "a3", "a4"], order);
    }
}
