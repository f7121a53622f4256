using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Sluice.Redis.Batch;
using Sluice.Tests.Support;
using StackExchange.Redis;

namespace Sluice.Redis.Tests.Batch;

/// <summary>
/// <see cref="Sluice.Redis.Batch.RedisBatch"/> against a real redis-server: loaded once, handed out once, recorded once, a dead worker's
/// lines taken over, a live worker's kept, results read back in input order. Each test uses a batch of its own.
/// </summary>
public sealed class RedisBatchTests(RedisBatchTests.Server server) : IClassFixture<RedisBatchTests.Server>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>One redis-server for the class.</summary>
    public sealed class Server : IAsyncLifetime
    {
        private RedisServer? _redis;

        public string Configuration => _redis!.Configuration;

        public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

        public async Task DisposeAsync() => await _redis!.DisposeAsync();
    }

    [Fact]
    public async Task Load_FirstWorkerLoads_ALaterOneFindsItLoaded_WithoutReadingItsInput()
    {
        string name = NewName();
        await using var first = await ConnectAsync(name);
        await using var second = await ConnectAsync(name);

        Assert.Equal(RedisBatchLoad.Loaded, await first.LoadAsync("sha-a", Items(20)).WaitAsync(Bound));
        bool read = false;
        Assert.Equal(RedisBatchLoad.AlreadyLoaded, await second.LoadAsync("sha-a", Items(20, onRead: () => read = true)).WaitAsync(Bound));

        Assert.False(read);
        Assert.Equal(new RedisBatchProgress(20, 0, 0), await second.GetProgressAsync());
        Assert.Equal(20, await Database().StreamLengthAsync(Key(name, "lines")));
    }

    [Fact]
    public async Task Load_ADifferentInputUnderTheSameName_IsRefused_AndChangesNothing()
    {
        string name = NewName();
        await using var first = await ConnectAsync(name);
        await using var other = await ConnectAsync(name);
        await first.LoadAsync("sha-a", Items(5)).WaitAsync(Bound);

        Assert.Equal(RedisBatchLoad.DifferentInput, await other.LoadAsync("sha-b", Items(7)).WaitAsync(Bound));

        Assert.Equal(new RedisBatchProgress(5, 0, 0), await first.GetProgressAsync());
        Assert.Equal("sha-a", (string?)await Database().HashGetAsync(Key(name, "meta"), "sha256"));
    }

    [Fact]
    public async Task Load_ManyWorkersAtOnce_OneLoads_EveryLineOnceInOrder()
    {
        string name = NewName();
        var workers = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ConnectAsync(name)));
        try
        {
            var loads = await Task.WhenAll(workers.Select(w => w.LoadAsync("sha", Items(1_200)))).WaitAsync(Bound);

            Assert.Single(loads, l => l == RedisBatchLoad.Loaded);
            Assert.Equal(3, loads.Count(l => l == RedisBatchLoad.AlreadyLoaded));
            var entries = await Database().StreamRangeAsync(Key(name, "lines"));
            Assert.Equal(Enumerable.Range(1, 1_200).Select(Id), entries.Select(e => (string)e["id"]!));
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task Load_WhoseLoaderDied_IsFinishedByAnother_WithoutALineTwice()
    {
        string name = NewName();
        // The loader's lease lasts the claim time: short here, so the take-over comes soon.
        await using var dying = await ConnectAsync(name, claimIdle: TimeSpan.FromMilliseconds(300));
        await using var next = await ConnectAsync(name, claimIdle: TimeSpan.FromMilliseconds(300));

        // The first loader fails after two chunks of 500 are in Redis (as if killed there).
        await Assert.ThrowsAsync<IOException>(() => dying.LoadAsync("sha", Items(1_300, failAt: 1_100)).WaitAsync(Bound));
        Assert.Equal(1_000, await Database().StreamLengthAsync(Key(name, "lines")));

        Assert.Equal(RedisBatchLoad.Loaded, await next.LoadAsync("sha", Items(1_300)).WaitAsync(Bound));

        var entries = await Database().StreamRangeAsync(Key(name, "lines"));
        Assert.Equal(Enumerable.Range(1, 1_300).Select(Id), entries.Select(e => (string)e["id"]!));
        Assert.Equal(1_300, (await next.GetProgressAsync()).Total);
    }

    [Fact]
    public async Task Take_SeveralWorkers_EachLineToOne_AndTheBatchCompletes()
    {
        string name = NewName();
        var workers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectAsync(name)));
        try
        {
            await Task.WhenAll(workers.Select(w => w.LoadAsync("sha", Items(300)))).WaitAsync(Bound);
            var taken = await Task.WhenAll(workers.Select(async w =>
            {
                var mine = new List<string>();
                while (await w.TakeAsync(7) is { Count: > 0 } lines)
                {
                    foreach (var line in lines)
                    {
                        mine.Add(line.Id);
                        Assert.True(await w.RecordAsync(line, "result " + line.Id, failed: line.LineNumber % 10 == 0));
                    }
                }

                return mine;
            })).WaitAsync(Bound);

            var all = taken.SelectMany(t => t).ToList();
            Assert.Equal(300, all.Count);
            Assert.Equal(300, all.Distinct().Count());
            Assert.All(taken, mine => Assert.NotEmpty(mine));
            var progress = await workers[0].GetProgressAsync();
            Assert.True(progress.IsComplete);
            Assert.Equal(new RedisBatchProgress(300, 300, 30), progress);
            Assert.Equal(0, (await Database().StreamPendingAsync(Key(name, "lines"), "workers")).PendingMessageCount);
        }
        finally
        {
            await Task.WhenAll(workers.Select(w => w.DisposeAsync().AsTask()));
        }
    }

    [Fact]
    public async Task Record_TwoWorkersFinishTheSameLine_TheFirstResultIsKept_AndCountedOnce()
    {
        string name = NewName();
        await using var slow = await ConnectAsync(name);
        await using var fast = await ConnectAsync(name);
        await slow.LoadAsync("sha", Items(3)).WaitAsync(Bound);
        var line = (await slow.TakeAsync(1).WaitAsync(Bound)).Single();

        Assert.True(await fast.RecordAsync(line, "fast answer", failed: true));
        Assert.False(await slow.RecordAsync(line, "slow answer", failed: true));

        Assert.Equal(new RedisBatchProgress(3, 1, 1), await fast.GetProgressAsync());
        Assert.Equal("Ffast answer", (string?)await Database().HashGetAsync(Key(name, "results"), line.Id));
        Assert.Equal(0, slow.Held);
    }

    [Fact]
    public async Task Take_ADeadWorkersLines_AreTakenOverAfterTheClaimTime_AndNeverBefore()
    {
        string name = NewName();
        await using var dead = await ConnectAsync(name);
        await using var patient = await ConnectAsync(name, claimIdle: TimeSpan.FromHours(1));
        await using var taker = await ConnectAsync(name, claimIdle: TimeSpan.FromMilliseconds(100));
        await dead.LoadAsync("sha", Items(5)).WaitAsync(Bound);
        var lost = await dead.TakeAsync(5).WaitAsync(Bound);
        await dead.AbandonAsync();

        // With an hour's claim time nothing is idle enough: the worker waits (and is stopped here).
        using (var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => patient.TakeAsync(5, stop.Token).WaitAsync(Bound));
        }

        var reclaimed = await taker.TakeAsync(5).WaitAsync(Bound);
        Assert.Equal(lost.Select(l => l.Id), reclaimed.Select(l => l.Id));
        Assert.Equal(5, taker.Held);
    }

    [Fact]
    public async Task Dispose_GivesBackTheLinesStillHeld_SoOthersTakeThemAtOnce()
    {
        string name = NewName();
        var leaving = await ConnectAsync(name);
        await using var staying = await ConnectAsync(name, claimIdle: TimeSpan.FromHours(1));
        await leaving.LoadAsync("sha", Items(3)).WaitAsync(Bound);
        var held = await leaving.TakeAsync(3).WaitAsync(Bound);

        await leaving.DisposeAsync();

        // An hour's claim time, yet the lines come at once: they were given back idle.
        var taken = await staying.TakeAsync(3).WaitAsync(Bound);
        Assert.Equal(held.Select(l => l.Id), taken.Select(l => l.Id));
    }

    [Fact]
    public async Task Renew_ALiveWorkersLines_StayFresh_WhileAnotherWorkersAge()
    {
        string name = NewName();
        var clock = new FakeTimeProvider();
        await using var renewing = await ConnectAsync(name, time: clock);
        await using var idle = await ConnectAsync(name, time: new FakeTimeProvider());
        await renewing.LoadAsync("sha", Items(2)).WaitAsync(Bound);
        var mine = (await renewing.TakeAsync(1).WaitAsync(Bound)).Single();
        var theirs = (await idle.TakeAsync(1).WaitAsync(Bound)).Single();
        await WaitUntilAsync(async () => (await IdleAsync(name, mine.EntryId)) >= 50);

        // The renewal loop runs on the worker's clock: one interval on, it renews its line, and only its own.
        clock.Advance(TimeSpan.FromSeconds(10));
        await WaitUntilAsync(async () => await IdleAsync(name, mine.EntryId) < await IdleAsync(name, theirs.EntryId));
        Assert.Equal(renewing.Worker, await OwnerAsync(name, mine.EntryId));
        Assert.Equal(idle.Worker, await OwnerAsync(name, theirs.EntryId));
    }

    [Fact]
    public async Task Renew_LeavesAloneALineAnotherWorkerTookOver()
    {
        string name = NewName();
        // Its renewal loop never runs (its clock stands still): it is slow enough for its line to be taken over.
        await using var slow = await ConnectAsync(name, time: new FakeTimeProvider());
        await using var taker = await ConnectAsync(name, claimIdle: TimeSpan.FromMilliseconds(100));
        await slow.LoadAsync("sha", Items(1)).WaitAsync(Bound);
        var line = (await slow.TakeAsync(1).WaitAsync(Bound)).Single();
        Assert.Equal(line.Id, (await taker.TakeAsync(1).WaitAsync(Bound)).Single().Id);

        Assert.Equal(0, await slow.RenewHeldAsync());
        Assert.Equal(taker.Worker, await OwnerAsync(name, line.EntryId));
    }

    [Fact]
    public async Task ReadResults_InInputOrder_AcrossPages_WhateverOrderTheyWereRecordedIn()
    {
        string name = NewName();
        await using var a = await ConnectAsync(name);
        await using var b = await ConnectAsync(name);
        await a.LoadAsync("sha", Items(1_234)).WaitAsync(Bound);
        var lines = new List<(RedisBatch Worker, RedisBatchLine Line)>();
        for (int turn = 0; lines.Count < 1_234; turn++)
        {
            var worker = turn % 2 == 0 ? a : b;
            lines.AddRange((await worker.TakeAsync(300).WaitAsync(Bound)).Select(l => (worker, l)));
        }

        Assert.Equal(1_234, lines.Count);
        var shuffle = new Random(15);
        foreach (var (worker, line) in lines.OrderBy(_ => shuffle.Next()))
        {
            await worker.RecordAsync(line, "{\"custom_id\":\"" + line.Id + "\"}", failed: line.LineNumber % 100 == 1);
        }

        var results = new List<RedisBatchResult>();
        await foreach (var result in b.ReadResultsAsync().WithCancellation(CancellationToken.None))
        {
            results.Add(result);
        }

        Assert.Equal(Enumerable.Range(1, 1_234).Select(Id), results.Select(r => r.Id));
        Assert.Equal(Enumerable.Range(1, 1_234).Select(i => i + 1), results.Select(r => r.LineNumber));
        Assert.All(results, r => Assert.Equal("{\"custom_id\":\"" + r.Id + "\"}", r.Value));
        Assert.Equal(12, results.Count(r => r.Failed)); // line numbers 101, 201, … 1201
        Assert.True((await a.TakeAsync(1).WaitAsync(Bound)).Count == 0, "a complete batch hands out nothing");
    }

    [Fact]
    public async Task Delete_RemovesEveryKeyOfTheBatch()
    {
        string name = NewName();
        await using var batch = await ConnectAsync(name);
        await batch.LoadAsync("sha", Items(3)).WaitAsync(Bound);
        var line = (await batch.TakeAsync(1).WaitAsync(Bound)).Single();
        await batch.RecordAsync(line, "x", failed: false);

        Assert.True(await batch.DeleteAsync());

        foreach (string part in new[] { "meta", "lines", "results", "loader" })
        {
            Assert.False(await Database().KeyExistsAsync(Key(name, part)));
        }
    }

    [Fact]
    public async Task Keys_ExpireAfterKeepFor_SoAForgottenBatchFreesRedis()
    {
        string name = NewName();
        await using var batch = await ConnectAsync(name);
        await batch.LoadAsync("sha", Items(2)).WaitAsync(Bound);
        var line = (await batch.TakeAsync(1).WaitAsync(Bound)).Single();
        await batch.RecordAsync(line, "x", failed: false);

        foreach (string part in new[] { "meta", "lines", "results" })
        {
            var ttl = await Database().KeyTimeToLiveAsync(Key(name, part));
            Assert.True(ttl is { } t && t > TimeSpan.FromDays(6) && t <= TimeSpan.FromDays(7), $"{part}: {ttl}");
        }
    }

    [Fact]
    public async Task Connect_WhenRedisDoesNotAnswer_FailsNamingTheHost_NeverThePassword()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var options = new RedisBatchOptions
        {
            Configuration = $"127.0.0.1:{port},password=hunter2-secret",
            Name = "unreachable",
            OperationTimeout = TimeSpan.FromMilliseconds(500),
        };
        var failure = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisBatch.ConnectAsync(options).WaitAsync(Bound));

        Assert.Contains($"127.0.0.1:{port}", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", failure.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("brace{")]
    public void Options_ABadName_IsRefused(string name)
    {
        var options = new RedisBatchOptions { Configuration = "127.0.0.1:1", Name = name };
        Assert.Throws<ArgumentException>(() => RedisBatch.ConnectAsync(options).GetAwaiter().GetResult());
    }

    [Fact]
    public void Options_ARenewalNotWellWithinTheClaimTime_IsRefused()
    {
        var options = new RedisBatchOptions { Configuration = "127.0.0.1:1", Name = "ok", ClaimIdleTime = TimeSpan.FromSeconds(10), RefreshInterval = TimeSpan.FromSeconds(5) };
        var failure = Assert.Throws<ArgumentException>(() => RedisBatch.ConnectAsync(options).GetAwaiter().GetResult());
        Assert.Contains("RefreshInterval", failure.Message, StringComparison.Ordinal);
    }

    private Task<RedisBatch> ConnectAsync(string name, TimeSpan? claimIdle = null, TimeProvider? time = null) =>
        RedisBatch.ConnectAsync(
            new RedisBatchOptions
            {
                Configuration = server.Configuration,
                Name = name,
                ClaimIdleTime = claimIdle ?? TimeSpan.FromMinutes(1),
                RefreshInterval = claimIdle is { } idle && idle < TimeSpan.FromSeconds(30) ? idle / 4 : TimeSpan.FromSeconds(10),
                PollInterval = TimeSpan.FromMilliseconds(20),
            },
            time).WaitAsync(Bound);

    private IDatabase Database() => Multiplexer.Value.GetDatabase();

    private Lazy<ConnectionMultiplexer> Multiplexer => _multiplexer ??= new(() => ConnectionMultiplexer.Connect(server.Configuration));

    private Lazy<ConnectionMultiplexer>? _multiplexer;

    private static string NewName() => "t" + Guid.NewGuid().ToString("N")[..12];

    private static RedisKey Key(string name, string part) => $"sluice:batch:{{{name}}}:{part}";

    private static string Id(int i) => "req-" + i.ToString(CultureInfo.InvariantCulture);

    private async Task<long> IdleAsync(string name, string entryId)
    {
        var pending = await Database().StreamPendingMessagesAsync(Key(name, "lines"), "workers", 1, RedisValue.Null, entryId, entryId);
        return pending.Single().IdleTimeInMilliseconds;
    }

    private async Task<string?> OwnerAsync(string name, string entryId)
    {
        var pending = await Database().StreamPendingMessagesAsync(Key(name, "lines"), "workers", 1, RedisValue.Null, entryId, entryId);
        return pending.SingleOrDefault().ConsumerName;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        long started = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < Bound, "the condition did not hold in time");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    private static async IAsyncEnumerable<RedisBatchItem> Items(int count, Action? onRead = null, int? failAt = null)
    {
        for (int i = 1; i <= count; i++)
        {
            onRead?.Invoke();
            if (i == failAt)
            {
                throw new IOException("the input could not be read");
            }

            await Task.Yield();
            yield return new RedisBatchItem(Id(i), i + 1, $"{{\"custom_id\":\"{Id(i)}\"}}");
        }
    }
}
