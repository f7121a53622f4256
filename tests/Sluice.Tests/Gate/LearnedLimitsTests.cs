using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class LearnedLimitsTests
{
    [Fact]
    public void ObserveRequests_WithNoBudgetConfigured_AdoptsTheProvidersStatedBudget()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100 });
        Assert.Null(partition.GetSnapshot().RequestsPerMinute);

        partition.ObserveRequests(remaining: 0, resetAt: time.GetUtcNow().AddSeconds(1), limit: 60);

        Assert.Equal(60, partition.GetSnapshot().RequestsPerMinute);
        Assert.Equal(BudgetSource.Headers, partition.GetSnapshot().RequestBudgetSource);

        // Nothing left until the provider's reset, one second from now, then one a second.
        var next = partition.Enter(new AdmissionRequest());
        time.Advance(TimeSpan.FromMilliseconds(999));
        next.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        next.Admitted();
    }

    [Fact]
    public void ObserveRequests_WhenConfiguredLower_KeepsTheConfiguredBudget()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 30 });

        partition.ObserveRequests(remaining: 59, resetAt: time.GetUtcNow().AddSeconds(1), limit: 60);

        Assert.Equal(30, partition.GetSnapshot().RequestsPerMinute);
        Assert.Equal(BudgetSource.Configured, partition.GetSnapshot().RequestBudgetSource);
    }

    [Fact]
    public void ObserveRequests_WhenConfiguredHigher_TheProviderWins()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 6000 });

        partition.ObserveRequests(remaining: 59, resetAt: time.GetUtcNow().AddSeconds(1), limit: 60);

        Assert.Equal(60, partition.GetSnapshot().RequestsPerMinute);
    }

    [Fact]
    public void ObserveRequests_WhenTheStatedBudgetChanges_FollowsItBothWays()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());

        partition.ObserveRequests(600, time.GetUtcNow().AddSeconds(1), limit: 600);
        partition.ObserveRequests(300, time.GetUtcNow().AddSeconds(1), limit: 300);
        Assert.Equal(300, partition.GetSnapshot().RequestsPerMinute);

        partition.ObserveRequests(1200, time.GetUtcNow().AddSeconds(1), limit: 1200);
        Assert.Equal(1200, partition.GetSnapshot().RequestsPerMinute);
    }

    [Fact]
    public void ObserveTokens_AdoptsTheStatedTokenBudget_AndPacesReservationsByIt()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100 });

        partition.ObserveTokens(remaining: 6000, resetAt: time.GetUtcNow(), limit: 60_000);

        Assert.Equal(60_000, partition.GetSnapshot().TokensPerMinute);

        // One second's worth (1,000 tokens) is the burst; a second reservation waits for refill.
        partition.Enter(new AdmissionRequest(1000)).Admitted();
        var next = partition.Enter(new AdmissionRequest(500));
        time.Advance(TimeSpan.FromMilliseconds(499));
        next.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        next.Admitted();
    }

    [Fact]
    public void Observe_WithLearningOff_StatesNoBudget()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { LearnBudgets = false });

        partition.ObserveRequests(0, time.GetUtcNow().AddSeconds(30), limit: 60);
        partition.ObserveTokens(0, time.GetUtcNow().AddSeconds(30), limit: 1000);

        var snapshot = partition.GetSnapshot();
        Assert.Null(snapshot.RequestsPerMinute);
        Assert.Null(snapshot.TokensPerMinute);
        partition.Enter(new AdmissionRequest(10)).Admitted();
    }

    [Fact]
    public void AdaptiveConcurrency_StartsLow_GrowsOnSuccess_AndIsCutByA429()
    {
        // Nothing learned from 429s here, so the concurrency limit is all that answers them.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 64, AdaptiveConcurrency = true, LearnBudgets = false });
        var snapshot = partition.GetSnapshot();
        Assert.True(snapshot.AdaptiveConcurrency);
        Assert.Equal(AimdLimit.InitialLimit, snapshot.ConcurrencyLimit);

        var leases = Enumerable.Range(0, AimdLimit.InitialLimit).Select(_ => partition.Enter(new AdmissionRequest()).Admitted()).ToList();
        var fifth = partition.Enter(new AdmissionRequest());
        fifth.AssertWaiting();

        time.Advance(TimeSpan.FromMilliseconds(300));
        partition.RecordOutcome(leases[0], PacingSignal.Success);

        // One more slot, taken by the waiter at once.
        Assert.Equal(AimdLimit.InitialLimit + 1, partition.ConcurrencyLimit);
        leases.Add(fifth.Admitted());

        partition.RecordOutcome(leases[1], PacingSignal.Throttled);
        Assert.Equal((int)((AimdLimit.InitialLimit + 1) * AimdLimit.SlowStartBackoffRatio), partition.ConcurrencyLimit);
        Assert.Equal(partition.ConcurrencyLimit, partition.GetSnapshot().ConcurrencyLimit);
    }

    [Fact]
    public void AdaptiveConcurrency_Off_RecordedOutcomesDoNotMoveTheLimit()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 8, LearnBudgets = false });
        var lease = partition.Enter(new AdmissionRequest()).Admitted();

        partition.RecordOutcome(lease, PacingSignal.Throttled);

        Assert.Equal(8, partition.ConcurrencyLimit);
    }

    [Fact]
    public void A429WithNoBudgetKnown_SetsALearnedRequestRate_WhichHeadersThenReplace()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1000 });

        // 10 requests a second for three seconds, all accepted; then one is refused.
        GateLease last = null!;
        for (int i = 0; i < 30; i++)
        {
            last = partition.Enter(new AdmissionRequest()).Admitted();
            last.Dispose();
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        partition.RecordOutcome(last, PacingSignal.Throttled, waitStated: false);

        // The 29 before it passed in 2.9 s: at least ten a second, where the rate starts and climbs from.
        var snapshot = partition.GetSnapshot();
        Assert.Equal(600, snapshot.RequestsPerMinute!.Value, precision: 6);
        Assert.Equal(BudgetSource.Throttling, snapshot.RequestBudgetSource);

        // The provider's own statement is better evidence than the spacing of 429s.
        partition.ObserveRequests(100, time.GetUtcNow().AddSeconds(1), limit: 1200);
        Assert.Equal(1200, partition.GetSnapshot().RequestsPerMinute);
        Assert.Equal(BudgetSource.Headers, partition.GetSnapshot().RequestBudgetSource);
    }

    [Fact]
    public void A429WithABudgetConfigured_DoesNotLearnARate()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1000, RequestsPerWindow = 600 });
        GateLease last = null!;
        for (int i = 0; i < 30; i++)
        {
            last = partition.Enter(new AdmissionRequest()).Admitted();
            last.Dispose();
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        partition.RecordOutcome(last, PacingSignal.Throttled);

        Assert.Equal(600, partition.GetSnapshot().RequestsPerMinute);
    }
}

public sealed class LittleFloorPartitionTests
{
    [Fact]
    public void AdaptiveConcurrency_UnderABudget_IsRaisedToWhatTheBudgetNeeds_AboveItsCeiling()
    {
        // 3,000 a minute answered in 8 s: about 400 in flight, far above the adaptive ceiling of 256.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits
        {
            MaxConcurrency = 256,
            AdaptiveConcurrency = true,
            RequestsPerWindow = 3_000,
            RequestBurst = 1,
        });

        var leases = new List<GateLease>();
        var waiting = new List<Task<GateLease>>();
        for (int i = 0; i < 1_000; i++)
        {
            waiting.Add(partition.Enter(new AdmissionRequest()));
        }

        // Before any answer, admissions follow the budget (50 a second) and are not held at the adaptive start of 8.
        Step(time, TimeSpan.FromSeconds(4));
        int started = waiting.Count(w => w.IsCompleted);
        Assert.InRange(started, 195, 202);
        Step(time, TimeSpan.FromSeconds(4));

        leases.AddRange(waiting.Where(w => w.IsCompleted).Select(w => w.Result));
        foreach (var lease in leases.Take(10))
        {
            partition.RecordOutcome(lease, PacingSignal.Success);
        }

        Assert.True(partition.ConcurrencyLimit > 400, $"limit {partition.ConcurrencyLimit} with 8 s answers at 50 a second");
        Step(time, TimeSpan.FromSeconds(4));
        Assert.InRange(waiting.Count(w => w.IsCompleted), 595, 602);
    }

    // The fake clock fires a timer once per advance; the partition re-arms its own for each admission.
    private static void Step(Microsoft.Extensions.Time.Testing.FakeTimeProvider time, TimeSpan span)
    {
        for (var done = TimeSpan.Zero; done < span; done += TimeSpan.FromMilliseconds(5))
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
        }
    }

    [Fact]
    public void A429UnderARequestRate_DoesNotCutTheConcurrency()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 64, AdaptiveConcurrency = true, RequestsPerWindow = 6_000 });
        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        int before = partition.ConcurrencyLimit;
        time.Advance(TimeSpan.FromMilliseconds(10));

        partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: false);

        Assert.Equal(before, partition.ConcurrencyLimit);
    }
}

public sealed class ProbeOverrideTests
{
    [Fact]
    public void AConfiguredBudget_GivesWayOnlyToAMeasuredRateWellBelowIt()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1000, RequestsPerWindow = 600, RequestBurst = 1 });

        // Ten a second as configured, but the upstream lets one through every half second at most: two a second.
        var lastAccepted = TimeSpan.FromDays(-1);
        var elapsed = TimeSpan.Zero;
        for (int i = 0; i < 150; i++)
        {
            var pending = partition.Enter(new AdmissionRequest(AtFront: true));
            while (!pending.IsCompleted && elapsed < TimeSpan.FromMinutes(5))
            {
                time.Advance(TimeSpan.FromMilliseconds(10));
                elapsed += TimeSpan.FromMilliseconds(10);
            }

            var lease = pending.Admitted();
            bool accepted = elapsed - lastAccepted >= TimeSpan.FromMilliseconds(500);
            lastAccepted = accepted ? elapsed : lastAccepted;
            time.Advance(TimeSpan.FromMilliseconds(1));
            elapsed += TimeSpan.FromMilliseconds(1);
            partition.RecordOutcome(lease, accepted ? PacingSignal.Success : PacingSignal.Throttled, waitStated: false);
            lease.Dispose();

            if (i == 8)
            {
                // A lower bound, or a cut from one, is no evidence against the configured budget.
                Assert.Equal(BudgetSource.Configured, partition.GetSnapshot().RequestBudgetSource);
            }
        }

        var snapshot = partition.GetSnapshot();
        Assert.Equal(BudgetSource.Throttling, snapshot.RequestBudgetSource);
        Assert.InRange(snapshot.RequestsPerMinute!.Value, 90, 200);
    }
}
