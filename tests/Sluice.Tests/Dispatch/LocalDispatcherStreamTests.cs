using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class LocalDispatcherStreamTests
{
    private static readonly TimeSpan Step10Ms = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task RunAllAsync_WithMixedOutcomes_YieldsOneResultPerItemExactlyOnce()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 8 }, o => o.BaseRetryDelay = TimeSpan.FromMilliseconds(200));
        var items = Enumerable.Range(0, 300).ToList();
        foreach (int i in items)
        {
            var latency = TimeSpan.FromMilliseconds(i * 37 % 500);
            h.Upstream.Script(Id(i), (i % 10) switch
            {
                0 => [Step.After(latency, AttemptOutcome.Transient<string>("503")), Step.Returns(AttemptOutcome.Success(Id(i)))],
                1 => [Step.After(latency, AttemptOutcome.Permanent<string>("400"))],
                2 => [Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromMilliseconds(300))), Step.After(latency, AttemptOutcome.Success(Id(i)))],
                3 => [Step.Throws(new IOException("reset")), Step.Returns(AttemptOutcome.Success(Id(i)))],
                _ => [Step.After(latency, AttemptOutcome.Success(Id(i)))],
            });
        }

        var source = new CountingSource<int>(items);
        var results = await h.Driver.RunUntilAsync(
            Consume(h.Dispatcher.RunAllAsync(source, Describe, Attempt(h), new DispatchStreamOptions { MaxInProgress = 50 })),
            Step10Ms,
            TimeSpan.FromHours(1));

        Assert.Equal(items.Select(Id).Order(), results.Select(r => r.Job.Id).Order());
        Assert.All(results, r => Assert.Equal(r.Job.Id.EndsWith('1') ? JobStatus.Failed : JobStatus.Succeeded, r.Status));
        Assert.Equal(300, source.Taken);
    }

    [Fact]
    public async Task RunAllAsync_WithPreserveOrder_YieldsResultsInInputOrder()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 16 });
        var items = Enumerable.Range(0, 60).ToList();
        foreach (int i in items)
        {
            // Latencies out of step with the input, so jobs finish out of order.
            h.Upstream.Script(Id(i), Step.After(TimeSpan.FromMilliseconds(i * 7_919 % 13 * 50), AttemptOutcome.Success(Id(i))));
        }

        var finished = new List<int>();
        var attempt = Attempt(h);
        var stream = h.Dispatcher.RunAllAsync<int, string>(
            new CountingSource<int>(items),
            Describe,
            async (i, context, token) =>
            {
                var outcome = await attempt(i, context, token);
                lock (finished)
                {
                    finished.Add(i);
                }

                return outcome;
            },
            new DispatchStreamOptions { MaxInProgress = 10, PreserveOrder = true });
        var results = await h.Driver.RunUntilAsync(Consume(stream), Step10Ms, TimeSpan.FromHours(1));

        Assert.Equal(items.Select(Id), results.Select(r => r.Job.Id));
        Assert.NotEqual(items, finished);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunAllAsync_NeverHasMoreThanMaxInProgressTakenAndUndelivered(bool preserveOrder)
    {
        const int MaxInProgress = 5;
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 3 }, o => o.BaseRetryDelay = TimeSpan.FromMilliseconds(100));
        var items = Enumerable.Range(0, 100).ToList();
        foreach (int i in items)
        {
            var latency = TimeSpan.FromMilliseconds(i * 7_919 % 11 * 20);
            h.Upstream.Script(Id(i), i % 4 == 0
                ? [Step.After(latency, AttemptOutcome.Transient<string>("500")), Step.Returns(AttemptOutcome.Success(Id(i)))]
                : [Step.After(latency, AttemptOutcome.Success(Id(i)))]);
        }

        int delivered = 0;
        int mostUndelivered = 0;
        var source = new CountingSource<int>(items)
        {
            OnTake = taken => InterlockedMax(ref mostUndelivered, taken - Volatile.Read(ref delivered)),
        };
        var stream = h.Dispatcher.RunAllAsync(source, Describe, Attempt(h), new DispatchStreamOptions { MaxInProgress = MaxInProgress, PreserveOrder = preserveOrder });
        var results = await h.Driver.RunUntilAsync(Consume(stream, _ => Interlocked.Increment(ref delivered)), Step10Ms, TimeSpan.FromHours(1));

        Assert.Equal(100, results.Count);
        Assert.Equal(MaxInProgress, mostUndelivered);
    }

    [Fact]
    public async Task RunAllAsync_WhenCancelled_EndsInProgressJobsCanceledYieldsThemAndStopsReading()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 3 });
        var held = Enumerable.Range(0, 10).Select(i => (Id: Id(i), Step: Step.Hold())).ToList();
        foreach (var (id, step) in held)
        {
            h.Upstream.Script(id, step);
        }

        using var cts = new CancellationTokenSource();
        var source = new CountingSource<int>(Enumerable.Range(0, 100));
        var consumer = Consume(h.Dispatcher.RunAllAsync(source, Describe, Attempt(h), new DispatchStreamOptions { MaxInProgress = 5 }, cts.Token));
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 3 && h.Snapshot().Queued == 2, "three in flight, two queued");

        await cts.CancelAsync().DefaultTimeout();
        var results = await consumer.DefaultTimeout();

        Assert.Equal(["J0", "J1", "J2", "J3", "J4"], results.Select(r => r.Job.Id).Order());
        Assert.All(results, r =>
        {
            Assert.Equal(JobStatus.NotCompleted, r.Status);
            Assert.Equal(JobEndReason.Canceled, r.Reason);
        });
        Assert.All(held.Take(3), x => Assert.True(x.Step.SawCancellation));
        Assert.Equal(3, h.Upstream.Calls.Count);
        Assert.Equal(results.Count, source.Taken);
    }

    [Fact]
    public async Task RunAllAsync_WhenConsumerBreaksEarly_LeavesNoJobRunning()
    {
        // Jobs in every state when the loop is left: in flight, queued at the gate, waiting to retry, not yet taken.
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 4 }, o => o.BaseRetryDelay = TimeSpan.FromMinutes(1));
        var items = Enumerable.Range(0, 50).ToList();
        var first = Step.Hold();
        h.Upstream.Script(Id(0), first);
        foreach (int i in items.Skip(1))
        {
            h.Upstream.Script(Id(i), i % 3 == 0 ? Step.Returns(AttemptOutcome.Transient<string>("503")) : Step.Hold());
        }

        (int Inside, int InFlight, int Queued)? afterLoop = null;
        var consumer = Task.Run(async () =>
        {
            await foreach (var result in h.Dispatcher.RunAllAsync(new CountingSource<int>(items), Describe, Attempt(h), new DispatchStreamOptions { MaxInProgress = 20 }))
            {
                Assert.Equal(Id(0), result.Job.Id);
                break;
            }

            // Leaving the loop has cancelled and awaited every job: nothing may still run now.
            afterLoop = (
                h.Gate.Partitions.Sum(p => h.Upstream.Inside(p.Key)),
                h.Gate.Partitions.Sum(p => p.GetSnapshot().InFlight),
                h.Gate.Partitions.Sum(p => p.GetSnapshot().Queued));
        });
        await TestWait.Eventually(() => h.Snapshot().InFlight == 4 && h.Snapshot().Queued > 0 && h.Upstream.CallsFor(Id(3)).Count == 1, "jobs in flight, queued and backing off");

        first.Complete(AttemptOutcome.Success("first"));
        await consumer.DefaultTimeout();

        Assert.Equal((0, 0, 0), afterLoop);
        int calls = h.Upstream.Calls.Count;
        await h.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(calls, h.Upstream.Calls.Count);
    }

    [Fact]
    public async Task RunAllAsync_WhenDrained_StopsReadingInputAndLetsInFlightAttemptsFinish()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 2 });
        var first = Step.Hold();
        var second = Step.Hold();
        h.Upstream.Script(Id(0), first);
        h.Upstream.Script(Id(1), second);
        var endless = new CountingSource<int>(Enumerable.Range(0, int.MaxValue));
        var consumer = Consume(h.Dispatcher.RunAllAsync(endless, Describe, Attempt(h), new DispatchStreamOptions { MaxInProgress = 4 }));
        await TestWait.Eventually(() => h.Upstream.Calls.Count == 2 && h.Snapshot().Queued == 2, "two in flight, two queued");

        h.Dispatcher.Drain();
        await TestWait.Eventually(() => h.Snapshot().Queued == 0, "queued jobs drained");
        first.Complete(AttemptOutcome.Success("J0-ok"));
        second.Complete(AttemptOutcome.Success("J1-ok"));
        var results = await consumer.DefaultTimeout();

        var byId = results.ToDictionary(r => r.Job.Id);
        Assert.Equal(["J0", "J1", "J2", "J3"], byId.Keys.Order());
        Assert.Equal(JobStatus.Succeeded, byId["J0"].Status);
        Assert.Equal(JobStatus.Succeeded, byId["J1"].Status);
        Assert.Equal(JobEndReason.Drained, byId["J2"].Reason);
        Assert.Equal(JobEndReason.Drained, byId["J3"].Reason);
        Assert.Equal(4, endless.Taken);
    }

    private static string Id(int item) => $"J{item}";

    private static SluiceJob Describe(int item) => new(Id(item), "a");

    private static Func<int, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<string>>> Attempt(DispatchHarness h) =>
        (_, context, token) => h.Upstream.AttemptAsync(context, token);

    /// <summary>Reads the whole stream on the thread pool (so nothing runs on the test framework's context).</summary>
    private static Task<List<JobResult<string>>> Consume(IAsyncEnumerable<JobResult<string>> stream, Action<JobResult<string>>? onEach = null) =>
        Task.Run(async () =>
        {
            var results = new List<JobResult<string>>();
            await foreach (var result in stream)
            {
                onEach?.Invoke(result);
                results.Add(result);
            }

            return results;
        });

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
