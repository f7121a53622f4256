using Microsoft.Extensions.Options;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class GatePartitionTests
{
    [Fact]
    public void Acquire_UnderAllLimits_AdmitsAtOnceWithNoWait()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 2, RequestsPerWindow = 60, TokensPerWindow = 6000 });

        var lease = partition.Enter(new AdmissionRequest(50)).Admitted();

        Assert.Equal(TimeSpan.Zero, lease.WaitTime);
        Assert.Equal(50, lease.ReservedTokens);
        var snapshot = partition.GetSnapshot();
        Assert.Equal(1, snapshot.InFlight);
        Assert.Equal(0, snapshot.RequestsAvailable);
        Assert.Equal(50, snapshot.TokensAvailable);
    }

    [Fact]
    public void Acquire_WhenConcurrencyFull_WaitsForRelease()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var first = partition.Enter(new AdmissionRequest()).Admitted();

        var second = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromHours(1));
        second.AssertWaiting();

        first.Dispose();
        var lease = second.Admitted();
        Assert.Equal(TimeSpan.FromHours(1), lease.WaitTime);
    }

    [Fact]
    public void Acquire_WhenRequestBudgetExhausted_WaitsUntilRefill()
    {
        // 60 per minute is one a second; a burst of 2.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 2 });
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();

        var third = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromMilliseconds(999));
        third.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(TimeSpan.FromSeconds(1), third.Admitted().WaitTime);
    }

    [Fact]
    public void Acquire_WhenTokenBudgetExhausted_WaitsForTheTokensItNeeds()
    {
        // 6,000 tokens a minute is 100 a second; burst 1,000.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        partition.Enter(new AdmissionRequest(900)).Admitted();

        var next = partition.Enter(new AdmissionRequest(400));
        time.Advance(TimeSpan.FromMilliseconds(2999));
        next.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));

        next.Admitted();
    }

    [Fact]
    public void Acquire_LargerThanBurst_StartsWhenBudgetFullAndLeavesItNegative()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        partition.Enter(new AdmissionRequest(500)).Admitted();

        var large = partition.Enter(new AdmissionRequest(3000));
        time.Advance(TimeSpan.FromMilliseconds(4999));
        large.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        large.Admitted();

        Assert.Equal(-2000, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
        var small = partition.Enter(new AdmissionRequest(1));
        time.Advance(TimeSpan.FromMilliseconds(20_009));
        small.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        small.Admitted();
    }

    [Fact]
    public void Acquire_ServesHigherPriorityFirstThenArrivalOrder()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var lowFirst = partition.Enter(new AdmissionRequest(Priority: 0));
        var highFirst = partition.Enter(new AdmissionRequest(Priority: 5));
        var lowSecond = partition.Enter(new AdmissionRequest(Priority: 0));
        var highSecond = partition.Enter(new AdmissionRequest(Priority: 5));

        var order = new List<string>();
        var pending = new Dictionary<string, Task<GateLease>>
        {
            ["lowFirst"] = lowFirst, ["highFirst"] = highFirst, ["lowSecond"] = lowSecond, ["highSecond"] = highSecond,
        };
        var current = holder;
        while (pending.Count > 0)
        {
            current.Dispose();
            var next = Assert.Single(pending, p => p.Value.IsCompleted);
            order.Add(next.Key);
            pending.Remove(next.Key);
            current = next.Value.Admitted();
        }

        Assert.Equal(["highFirst", "highSecond", "lowFirst", "lowSecond"], order);
    }

    [Fact]
    public void Acquire_AtFront_GoesAheadOfEarlierWaitersOfItsPriorityButNotOfHigherOnes()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());
        var urgent = partition.Enter(new AdmissionRequest(Priority: 1));
        var requeued = partition.Enter(new AdmissionRequest(AtFront: true));

        holder.Dispose();
        Assert.True(urgent.IsCompleted);
        Assert.False(requeued.IsCompleted);
        urgent.Admitted().Dispose();
        Assert.True(requeued.IsCompleted);
        Assert.False(waiting.IsCompleted);
        requeued.Admitted().Dispose();
        waiting.Admitted();
    }

    [Fact]
    public void Acquire_WhenNewcomerFitsButOthersWait_QueuesBehindThem()
    {
        // The head needs 800 tokens; a newcomer needing 10 must not overtake it (no starvation of large requests).
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        partition.Enter(new AdmissionRequest(500)).Admitted();
        var large = partition.Enter(new AdmissionRequest(800));
        var small = partition.Enter(new AdmissionRequest(10));

        small.AssertWaiting();
        time.Advance(TimeSpan.FromSeconds(3));
        large.Admitted();
        Assert.False(small.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(6));
        small.Admitted();
    }

    [Fact]
    public async Task Acquire_Cancelled_GivesUpItsPlaceAndUnblocksThoseBehind()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        partition.Enter(new AdmissionRequest(900)).Admitted();
        using var cts = new CancellationTokenSource();
        var blocked = partition.Enter(new AdmissionRequest(900), cts.Token);
        var small = partition.Enter(new AdmissionRequest(50));
        small.AssertWaiting();

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await blocked);
        small.Admitted();
        Assert.Equal(0, partition.GetSnapshot().Queued);
    }

    [Fact]
    public async Task Acquire_WithCancelledToken_ThrowsWithoutQueueing()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await partition.Enter(new AdmissionRequest(), cts.Token));
        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void Acquire_WhenQueueFull_RejectsWithReason()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 2 });
        partition.Enter(new AdmissionRequest()).Admitted();
        partition.Enter(new AdmissionRequest()).AssertWaiting();
        partition.Enter(new AdmissionRequest()).AssertWaiting();

        var rejected = partition.Enter(new AdmissionRequest());

        Assert.Equal(GateRejectionReason.QueueFull, rejected.Rejected().Rejection);
        Assert.Contains("2 callers waiting", rejected.Rejected().RejectionMessage);
        Assert.Equal(2, partition.GetSnapshot().Queued);
    }

    [Fact]
    public void PauseUntil_StopsEveryAdmissionUntilTheInstant()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());
        partition.PauseUntil(time.GetUtcNow().AddSeconds(30));
        partition.PauseUntil(time.GetUtcNow().AddSeconds(5)); // a shorter pause does not cut it short

        var waiting = partition.Enter(new AdmissionRequest());
        Assert.Equal(time.GetUtcNow().AddSeconds(30), partition.GetSnapshot().PausedUntil);
        time.Advance(TimeSpan.FromMilliseconds(29_999));
        waiting.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));

        waiting.Admitted();
        Assert.Null(partition.GetSnapshot().PausedUntil);
    }

    [Fact]
    public void Stop_RejectsWaitersAndNewcomersUntilResume()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var running = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());

        partition.Stop("quota exhausted: billing limit reached");

        Assert.Equal(GateRejectionReason.Stopped, waiting.Rejected().Rejection);
        Assert.Equal("quota exhausted: billing limit reached", waiting.Rejected().RejectionMessage);
        Assert.Equal(GateRejectionReason.Stopped, partition.Enter(new AdmissionRequest()).Rejected().Rejection);
        Assert.Equal("quota exhausted: billing limit reached", partition.GetSnapshot().StopReason);

        running.Dispose();
        partition.Resume();
        partition.Enter(new AdmissionRequest()).Admitted();
        Assert.Null(partition.GetSnapshot().StopReason);
    }

    [Fact]
    public void Settle_Refund_AdmitsAWaiterAtOnce()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        var lease = partition.Enter(new AdmissionRequest(1000)).Admitted();
        var waiting = partition.Enter(new AdmissionRequest(600));
        waiting.AssertWaiting();

        lease.Settle(300);

        waiting.Admitted();
        Assert.Equal(300, lease.ReservedTokens);
        Assert.Equal(100, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public void Settle_UnderEstimate_DrivesBudgetNegativeAndAdmitsNothingUntilItRecovers()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        var lease = partition.Enter(new AdmissionRequest(100)).Admitted();
        lease.Dispose();
        lease.Settle(1600); // settlement after release is allowed: usage arrives with the end of a stream

        Assert.Equal(-600, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
        var waiting = partition.Enter(new AdmissionRequest(1));
        time.Advance(TimeSpan.FromMilliseconds(6009));
        waiting.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        waiting.Admitted();
    }

    [Fact]
    public void Settle_OnRejectedLease_Throws()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());
        partition.Stop("stopped");
        var rejected = partition.TryAcquire(new AdmissionRequest());

        Assert.Throws<InvalidOperationException>(() => rejected.Settle(10));
    }

    [Fact]
    public void ObserveRequests_LowersTheAllowanceToWhatTheProviderSaysIsLeft()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 10 });

        // The provider says 2 are left of 600 a minute, whole again in 5 s: it refills at (600-2)/5 s, faster than ours.
        partition.ObserveRequests(remaining: 2, resetAt: time.GetUtcNow().AddSeconds(5), limit: 600);

        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
        var third = partition.Enter(new AdmissionRequest());
        third.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(100));
        third.Admitted();
    }

    [Fact]
    public void ObserveTokens_SlowsRefillToTheProvidersRateUntilReset()
    {
        // Configured 60,000 a minute (1,000/s), but the provider says 0 left of 6,000 with 60 s to reset: 100/s.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 5_000 });
        partition.ObserveTokens(remaining: 0, resetAt: time.GetUtcNow().AddSeconds(60), limit: 6_000);

        var waiting = partition.Enter(new AdmissionRequest(500));
        time.Advance(TimeSpan.FromMilliseconds(4_999));
        waiting.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        waiting.Admitted();
    }

    [Fact]
    public void Observe_NeverRaisesTheAllowanceAboveTheConfiguredBudget()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();

        partition.ObserveRequests(remaining: 10_000, resetAt: time.GetUtcNow().AddSeconds(1), limit: 1_000_000);
        partition.ObserveRequests(remaining: 5, resetAt: time.GetUtcNow().AddSeconds(-1)); // a reset in the past: ignored

        var next = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromMilliseconds(999));
        next.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        next.Admitted();
    }

    [Fact]
    public void ConcurrencyLimit_Raised_AdmitsWaitersAtOnce_Lowered_NeverInterruptsRunningWork()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var first = partition.Enter(new AdmissionRequest()).Admitted();
        var second = partition.Enter(new AdmissionRequest());
        var third = partition.Enter(new AdmissionRequest());

        partition.ConcurrencyLimit = 3;
        second.Admitted();
        third.Admitted();

        partition.ConcurrencyLimit = 1;
        Assert.Equal(3, partition.GetSnapshot().InFlight);
        var fourth = partition.Enter(new AdmissionRequest());
        first.Dispose();
        second.Admitted().Dispose();
        fourth.AssertWaiting();
        third.Admitted().Dispose();
        fourth.Admitted();
    }

    [Fact]
    public void UpdateLimits_AppliesNewBudgetsFromNowOn()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
        var waiting = partition.Enter(new AdmissionRequest());

        partition.UpdateLimits(new PartitionLimits { RequestsPerWindow = 600, RequestBurst = 1 });

        time.Advance(TimeSpan.FromMilliseconds(100));
        waiting.Admitted();
        Assert.Throws<OptionsValidationException>(() => partition.UpdateLimits(new PartitionLimits { MaxConcurrency = 0 }));
    }

    [Fact]
    public void TryAcquire_WhenNoRoom_RejectsWithRetryAfter()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        partition.TryAcquire(new AdmissionRequest()).Dispose();

        var rejected = partition.TryAcquire(new AdmissionRequest());

        Assert.Equal(GateRejectionReason.Unavailable, rejected.Rejection);
        Assert.Equal(TimeSpan.FromSeconds(1), rejected.RetryAfter);
    }

    [Fact]
    public void Lease_DisposeTwice_ReleasesOneSlot()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 2 });
        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        partition.Enter(new AdmissionRequest()).Admitted();

        lease.Dispose();
        lease.Dispose();

        Assert.Equal(1, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Acquire_NegativeTokens_Throws()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());

        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest(-1)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => partition.AcquireAsync(new AdmissionRequest(-1)).AsTask());
    }
}
