using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate.Contract;

/// <summary>
/// What every gate implementation must do, whatever holds its state: derive from this class, make the gate in
/// <see cref="CreateGate"/>, and every test here runs against it (as dotnet/runtime's <c>BaseRateLimiterTests</c> does
/// for its limiters). Time is a <see cref="FakeTimeProvider"/> the gate must run on; nothing sleeps. An admission may
/// complete asynchronously, so every await is bounded by <see cref="Bound"/>; a caller that must wait is checked at once.
/// </summary>
public abstract class GateContractTests
{
    /// <summary>The longest any await in these tests may take before the test fails: a bound, never a delay.</summary>
    protected static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    protected static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Makes the gate under test, with these options, on this clock.</summary>
    protected abstract SluiceGate CreateGate(GateOptions options, TimeProvider timeProvider);

    [Fact]
    public void GetPartition_SameKey_ReturnsTheSamePartition_AndListsIt()
    {
        using var gate = CreateGate(new GateOptions(), new FakeTimeProvider(Start));

        var partition = gate.GetPartition("a");

        Assert.Same(partition, gate.GetPartition("a"));
        Assert.NotSame(partition, gate.GetPartition("b"));
        Assert.Equal("a", partition.Key);
        Assert.Contains(partition, gate.Partitions);
        Assert.Equal(2, gate.Partitions.Count);
    }

    [Fact]
    public async Task Acquire_UnderTheConcurrencyLimit_AdmitsAtOnce_ThenCallersWait()
    {
        var (partition, time) = Partition(new PartitionLimits { MaxConcurrency = 2 });

        var first = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var second = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var third = partition.AcquireAsync(new AdmissionRequest()).AsTask();

        Assert.Equal(TimeSpan.Zero, first.WaitTime);
        Assert.False(third.IsCompleted, "a third caller must wait for a slot");
        Assert.Equal(2, partition.GetSnapshot().InFlight);
        Assert.Equal(1, partition.GetSnapshot().Queued);

        time.Advance(TimeSpan.FromSeconds(5));
        second.Dispose();
        var admitted = await Admitted(third);
        Assert.Equal(TimeSpan.FromSeconds(5), admitted.WaitTime);
        Assert.Equal(0, partition.GetSnapshot().Queued);
        first.Dispose();
        admitted.Dispose();
        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Acquire_FromManyThreadsAtOnce_NeverHoldsMoreThanTheLimit()
    {
        const int limit = 3;
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = limit });
        int inside = 0;
        int most = 0;

        async Task Worker()
        {
            for (int i = 0; i < 50; i++)
            {
                using var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
                int now = Interlocked.Increment(ref inside);
                InterlockedMax(ref most, now);
                await Task.Yield();
                Interlocked.Decrement(ref inside);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(Worker))).WaitAsync(Bound * 3);

        Assert.InRange(most, 1, limit);
        var snapshot = partition.GetSnapshot();
        Assert.Equal(0, snapshot.InFlight);
        Assert.Equal(0, snapshot.Queued);
    }

    [Fact]
    public async Task Waiters_AreServedByPriority_ThenByArrival()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var pending = new (string Name, Task<GateLease> Task)[]
        {
            ("low-1", partition.AcquireAsync(new AdmissionRequest(Priority: 0)).AsTask()),
            ("high-1", partition.AcquireAsync(new AdmissionRequest(Priority: 5)).AsTask()),
            ("low-2", partition.AcquireAsync(new AdmissionRequest(Priority: 0)).AsTask()),
            ("high-2", partition.AcquireAsync(new AdmissionRequest(Priority: 5)).AsTask()),
            ("front", partition.AcquireAsync(new AdmissionRequest(Priority: 0, AtFront: true)).AsTask()),
        };

        var order = new List<string>();
        var current = holder;
        for (int i = 0; i < pending.Length; i++)
        {
            current.Dispose();
            var next = await Task.WhenAny(pending.Where(p => !order.Contains(p.Name)).Select(p => p.Task)).WaitAsync(Bound);
            current = await Admitted(next);
            order.Add(pending.Single(p => p.Task == next).Name);
            Assert.Equal(1, partition.GetSnapshot().InFlight);
        }

        // AtFront goes ahead of every waiter of its priority, never of a higher one.
        Assert.Equal(["high-1", "high-2", "front", "low-1", "low-2"], order);
    }

    [Fact]
    public async Task Acquire_Cancelled_GivesUpItsPlace_AndTheNextWaiterIsServed()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        using var cts = new CancellationTokenSource();
        var cancelled = partition.AcquireAsync(new AdmissionRequest(), cts.Token).AsTask();
        var behind = partition.AcquireAsync(new AdmissionRequest()).AsTask();
        Assert.Equal(2, partition.GetSnapshot().Queued);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Bound));
        Assert.Equal(1, partition.GetSnapshot().Queued);
        holder.Dispose();
        (await Admitted(behind)).Dispose();
        var snapshot = partition.GetSnapshot();
        Assert.Equal(0, snapshot.Queued);
        Assert.Equal(0, snapshot.InFlight);
    }

    [Fact]
    public async Task Acquire_WithATokenAlreadyCancelled_ThrowsAndTakesNothing()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await partition.AcquireAsync(new AdmissionRequest(), new CancellationToken(canceled: true)));

        Assert.Equal(0, partition.GetSnapshot().InFlight);
        (await Admitted(partition.AcquireAsync(new AdmissionRequest()))).Dispose();
    }

    [Fact]
    public async Task Acquire_WhenTheQueueIsFull_IsRejectedAtOnce()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 2 });
        using var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var waiting = new[]
        {
            partition.AcquireAsync(new AdmissionRequest()).AsTask(),
            partition.AcquireAsync(new AdmissionRequest()).AsTask(),
        };

        var rejected = await partition.AcquireAsync(new AdmissionRequest()).AsTask().WaitAsync(Bound);

        Assert.False(rejected.IsAdmitted);
        Assert.Equal(GateRejectionReason.QueueFull, rejected.Rejection);
        Assert.False(string.IsNullOrEmpty(rejected.RejectionMessage));
        Assert.All(waiting, w => Assert.False(w.IsCompleted));
        Assert.Equal(2, partition.GetSnapshot().Queued);
    }

    [Fact]
    public async Task Stop_RejectsEveryWaiterAndLaterCaller_UntilResume()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var waiter = partition.AcquireAsync(new AdmissionRequest()).AsTask();

        partition.Stop("quota exhausted");

        var stopped = await waiter.WaitAsync(Bound);
        Assert.Equal(GateRejectionReason.Stopped, stopped.Rejection);
        Assert.Equal("quota exhausted", stopped.RejectionMessage);
        var later = await partition.AcquireAsync(new AdmissionRequest()).AsTask().WaitAsync(Bound);
        Assert.Equal(GateRejectionReason.Stopped, later.Rejection);
        Assert.Equal(GateRejectionReason.Stopped, partition.TryAcquire(new AdmissionRequest()).Rejection);
        Assert.Equal("quota exhausted", partition.GetSnapshot().StopReason);
        Assert.Equal(0, partition.GetSnapshot().Queued);

        holder.Dispose();
        partition.Resume();

        Assert.Null(partition.GetSnapshot().StopReason);
        (await Admitted(partition.AcquireAsync(new AdmissionRequest()))).Dispose();
    }

    [Fact]
    public async Task PauseUntil_HoldsEveryAdmissionUntilThen_AndAShorterPauseIsIgnored()
    {
        var (partition, time) = Partition(new PartitionLimits());
        partition.PauseUntil(time.GetUtcNow().AddSeconds(30));
        partition.PauseUntil(time.GetUtcNow().AddSeconds(10));

        var waiter = partition.AcquireAsync(new AdmissionRequest()).AsTask();
        var refused = partition.TryAcquire(new AdmissionRequest());

        Assert.False(refused.IsAdmitted);
        Assert.Equal(Start.AddSeconds(30), partition.GetSnapshot().PausedUntil);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(waiter.IsCompleted, "the longer pause is in force");
        time.Advance(TimeSpan.FromSeconds(1));
        var lease = await Admitted(waiter);
        Assert.Equal(TimeSpan.FromSeconds(30), lease.WaitTime);
        Assert.Null(partition.GetSnapshot().PausedUntil);
    }

    [Fact]
    public async Task Settle_BelowTheReservation_RefundsTheDifference()
    {
        var (partition, _) = Partition(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest(800)));
        var blocked = partition.AcquireAsync(new AdmissionRequest(500)).AsTask();
        Assert.False(blocked.IsCompleted);

        lease.Settle(200);

        Assert.Equal(200, lease.ReservedTokens);
        var admitted = await Admitted(blocked);
        Assert.Equal(300, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
        admitted.Dispose();
        lease.Dispose();
    }

    [Fact]
    public async Task Settle_AboveTheReservation_ChargesTheDifference_EvenAfterDispose()
    {
        var (partition, time) = Partition(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest(100)));
        lease.Dispose();

        lease.Settle(1_500);

        Assert.Equal(-500, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
        var next = partition.AcquireAsync(new AdmissionRequest(1)).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(5_009));
        Assert.False(next.IsCompleted, "the debt must be repaid first: 501 tokens at 100 a second");
        time.Advance(TimeSpan.FromMilliseconds(1));
        (await Admitted(next)).Dispose();
    }

    [Fact]
    public async Task Settle_OneDimension_LeavesTheOthersAlone()
    {
        var (partition, _) = Partition(new PartitionLimits { InputTokensPerWindow = 60_000, OutputTokensPerWindow = 60_000 });
        var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest(700) { InputTokens = 500, OutputTokens = 200 }));

        lease.Settle(BudgetDimension.OutputTokens, 50);

        Assert.Equal(50, lease.Reserved(BudgetDimension.OutputTokens));
        Assert.Equal(500, lease.Reserved(BudgetDimension.InputTokens));
        Assert.Equal(700, lease.Reserved(BudgetDimension.Tokens));
        var budgets = partition.GetSnapshot().Budgets;
        Assert.Equal(950, budgets.Single(b => b.Dimension == BudgetDimension.OutputTokens).Available, precision: 6);
        Assert.Equal(500, budgets.Single(b => b.Dimension == BudgetDimension.InputTokens).Available, precision: 6);
    }

    [Fact]
    public async Task Settle_ARejection_Throws()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        using var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));

        var rejected = partition.TryAcquire(new AdmissionRequest());

        Assert.False(rejected.IsAdmitted);
        Assert.Throws<InvalidOperationException>(() => rejected.Settle(10));
        rejected.Dispose();
        Assert.Equal(1, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Dispose_FreesTheSlotExactlyOnce()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var first = partition.AcquireAsync(new AdmissionRequest()).AsTask();
        var second = partition.AcquireAsync(new AdmissionRequest()).AsTask();

        lease.Dispose();
        lease.Dispose();

        using var admitted = await Admitted(first);
        Assert.False(second.IsCompleted, "a second dispose must not free a second slot");
        Assert.Equal(1, partition.GetSnapshot().InFlight);
        Assert.Equal(1, partition.GetSnapshot().Queued);
    }

    [Fact]
    public async Task Leases_CarryTheirAdmissionOrderAndTime()
    {
        var (partition, time) = Partition(new PartitionLimits());
        using var first = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        time.Advance(TimeSpan.FromSeconds(2));
        using var second = await Admitted(partition.AcquireAsync(new AdmissionRequest()));

        Assert.Equal(1, first.Admission);
        Assert.Equal(2, second.Admission);
        Assert.Equal(TimeSpan.FromSeconds(2), time.GetElapsedTime(first.AdmittedAt, second.AdmittedAt));
    }

    [Fact]
    public async Task TryAcquire_WhenTheBudgetIsSpent_SaysWhenToTryAgain()
    {
        // 60 a minute is one a second; a burst of one.
        var (partition, time) = Partition(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        using var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest()));

        var refused = partition.TryAcquire(new AdmissionRequest());

        Assert.Equal(GateRejectionReason.Unavailable, refused.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(1), refused.RetryAfter);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(partition.TryAcquire(new AdmissionRequest()).IsAdmitted);
    }

    [Fact]
    public async Task RequestBudget_IsNeverExceededInAnyWindow()
    {
        // 120 a minute (2 a second) with a burst of 5: over any interval of length t, at most 5 + 2t may start.
        var (partition, time) = Partition(new PartitionLimits { RequestsPerWindow = 120, RequestBurst = 5, MaxQueueLength = 1_000 });
        var starts = new List<long>();
        var waiting = Enumerable.Range(0, 200).Select(_ => partition.AcquireAsync(new AdmissionRequest()).AsTask()).ToList();

        await AdmitAllStepping(waiting, time, lease => starts.Add(lease.AdmittedAt));

        Assert.Empty(waiting);
        AssertNoWindowExceeds(starts, time, burst: 5, perSecond: 2);
    }

    [Fact]
    public async Task TokenBudget_IsNeverExceededInAnyWindow()
    {
        // 6,000 tokens a minute (100 a second) with a burst of 1,000; requests of 50 to 400 tokens.
        var (partition, time) = Partition(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000, MaxQueueLength = 1_000 });
        var random = new Random(13);
        var starts = new List<(long At, long Tokens)>();
        var waiting = Enumerable.Range(0, 100)
            .Select(_ => partition.AcquireAsync(new AdmissionRequest(random.Next(50, 401))).AsTask())
            .ToList();

        await AdmitAllStepping(waiting, time, lease => starts.Add((lease.AdmittedAt, lease.ReservedTokens)));

        Assert.Empty(waiting);
        for (int i = 0; i < starts.Count; i++)
        {
            long sum = 0;
            for (int j = i; j < starts.Count; j++)
            {
                sum += starts[j].Tokens;
                double seconds = time.GetElapsedTime(starts[i].At, starts[j].At).TotalSeconds;
                Assert.True(sum <= 1_000 + (100 * seconds) + 1e-6, $"{sum} tokens started within {seconds} s");
            }
        }
    }

    [Fact]
    public async Task Snapshot_ReportsWhatIsInFlight_Waiting_AndEveryBudget()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1, RequestsPerWindow = 600, TokensPerWindow = 60_000, RequestsPerDay = 1_000 });
        using var lease = await Admitted(partition.AcquireAsync(new AdmissionRequest(400)));
        var waiter = partition.AcquireAsync(new AdmissionRequest(100)).AsTask();

        var snapshot = partition.GetSnapshot();

        Assert.False(waiter.IsCompleted);
        Assert.Equal("p", snapshot.Key);
        Assert.Equal(1, snapshot.InFlight);
        Assert.Equal(1, snapshot.Queued);
        Assert.Equal(1, snapshot.ConcurrencyLimit);
        Assert.Equal(600, snapshot.RequestsPerMinute);
        Assert.Equal(60_000, snapshot.TokensPerMinute);
        Assert.Equal(9, snapshot.RequestsAvailable!.Value, precision: 6);
        Assert.Equal(600, snapshot.TokensAvailable!.Value, precision: 6);
        Assert.Equal(
            [BudgetDimension.Requests, BudgetDimension.Tokens, BudgetDimension.RequestsPerDay],
            snapshot.Budgets.Select(b => b.Dimension));
        Assert.Equal(999, snapshot.Budgets[2].Available, precision: 6);
        Assert.All(snapshot.Budgets, b => Assert.Equal(BudgetSource.Configured, b.Source));
    }

    [Fact]
    public async Task ConcurrencyLimit_Raised_AdmitsWaiters_AndLowered_InterruptsNothing()
    {
        var (partition, _) = Partition(new PartitionLimits { MaxConcurrency = 1 });
        using var holder = await Admitted(partition.AcquireAsync(new AdmissionRequest()));
        var waiter = partition.AcquireAsync(new AdmissionRequest()).AsTask();

        partition.ConcurrencyLimit = 2;
        using var second = await Admitted(waiter);
        partition.ConcurrencyLimit = 1;

        Assert.Equal(1, partition.ConcurrencyLimit);
        Assert.Equal(2, partition.GetSnapshot().InFlight);
        Assert.False(partition.TryAcquire(new AdmissionRequest()).IsAdmitted);
    }

    protected (GatePartition Partition, FakeTimeProvider Time) Partition(PartitionLimits limits)
    {
        var time = new FakeTimeProvider(Start);
        var gate = CreateGate(new GateOptions { DefaultLimits = limits }, time);
        return (gate.GetPartition("p"), time);
    }

    /// <summary>Awaits an admission within the bound and checks it is one.</summary>
    protected static async Task<GateLease> Admitted(ValueTask<GateLease> pending) => await Admitted(pending.AsTask()).ConfigureAwait(false);

    /// <summary>Awaits an admission within the bound and checks it is one.</summary>
    protected static async Task<GateLease> Admitted(Task<GateLease> pending)
    {
        var lease = await pending.WaitAsync(Bound).ConfigureAwait(false);
        Assert.True(lease.IsAdmitted, $"expected admission, got {lease.Rejection}: {lease.RejectionMessage}");
        return lease;
    }

    /// <summary>
    /// Lets the gate act on a clock step before the next one. The in-process gate acts inside <c>Advance</c>;
    /// a remote one answers over the network, so its tests give it a moment of real time.
    /// </summary>
    protected virtual Task AfterClockStepAsync() => Task.CompletedTask;

    /// <summary>
    /// Steps the fake clock 100 ms at a time, collecting (and releasing) each admission, until every waiter is
    /// admitted. Bounded in real time, not in steps: a busy machine may let many virtual steps pass before a remote
    /// gate's reply arrives, which changes when admissions happen but never what the budget allows.
    /// </summary>
    private async Task AdmitAllStepping(List<Task<GateLease>> waiting, FakeTimeProvider time, Action<GateLease> admitted)
    {
        long began = TimeProvider.System.GetTimestamp();
        while (waiting.Count > 0 && TimeProvider.System.GetElapsedTime(began) < TimeSpan.FromSeconds(60))
        {
            foreach (var done in waiting.Where(w => w.IsCompleted).ToList())
            {
                var lease = await Admitted(done);
                admitted(lease);
                lease.Dispose();
                waiting.Remove(done);
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
            await AfterClockStepAsync();
        }
    }

    private static void AssertNoWindowExceeds(List<long> starts, FakeTimeProvider time, double burst, double perSecond)
    {
        for (int i = 0; i < starts.Count; i++)
        {
            for (int j = i; j < starts.Count; j++)
            {
                double seconds = time.GetElapsedTime(starts[i], starts[j]).TotalSeconds;
                int count = j - i + 1;
                Assert.True(count <= burst + (perSecond * seconds) + 1e-6, $"{count} requests started within {seconds} s");
            }
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen = Volatile.Read(ref target);
        while (value > seen)
        {
            int found = Interlocked.CompareExchange(ref target, value, seen);
            if (found == seen)
            {
                return;
            }

            seen = found;
        }
    }
}
