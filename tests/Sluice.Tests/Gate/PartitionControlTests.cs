using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// A partition's controls as a caller sees them: the concurrency setter, idleness, TryAcquire's answers, adaptive
/// limits across a reconfiguration, and what headers and answers do to a waiter or a budget.
/// </summary>
public sealed class PartitionControlTests
{
    [Fact]
    public void ConcurrencyLimit_BelowOne_IsRefused()
    {
        var (partition, _, gate) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 4 });
        using var _ = gate;

        Assert.Throws<ArgumentOutOfRangeException>(() => partition.ConcurrencyLimit = 0);
        Assert.Equal(4, partition.ConcurrencyLimit);
    }

    [Fact]
    public void IdleDuration_IsNullWhileARequestIsInFlight_AndCountsFromItsRelease()
    {
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits());
        using var _ = gate;
        time.Advance(TimeSpan.FromSeconds(10));

        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        Assert.Null(partition.IdleDuration);
        time.Advance(TimeSpan.FromSeconds(2));
        lease.Dispose();
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromSeconds(5), partition.IdleDuration);
    }

    [Fact]
    public void Stop_WithABlankReason_IsRefused()
    {
        var (partition, _, gate) = GateTestKit.Create(new PartitionLimits());
        using var _ = gate;

        Assert.Throws<ArgumentException>(() => partition.Stop(" "));
        partition.Enter(new AdmissionRequest()).Admitted().Dispose();
    }

    [Fact]
    public void TryAcquire_WhenTheQueueIsFull_IsUnavailable_NotQueueFull_AndCounted()
    {
        // TryAcquire never queues, so a full queue is not its reason; both refusals count as rejections.
        var (partition, _, gate) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1, MaxQueueLength = 1 });
        using var _ = gate;
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());

        var refused = partition.TryAcquire(new AdmissionRequest());

        Assert.False(refused.IsAdmitted);
        Assert.Equal(GateRejectionReason.Unavailable, refused.Rejection);
        Assert.Equal(1, partition.TotalRejected);
        Assert.Equal(GateRejectionReason.QueueFull, partition.Enter(new AdmissionRequest()).Rejected().Rejection);
        Assert.Equal(2, partition.TotalRejected);
        waiting.AssertWaiting();
    }

    [Fact]
    public void AcquireAsync_WithAdaptiveConcurrency_BeforeAnyAnswer_WaitsForTheLittleFloorToLetOneMoreIn()
    {
        // The adaptive limit starts at 4. Before any answer, the floor for 100 requests a second grows with the age
        // of the first admission: a fifth in flight is allowed once 3 / (100 x 1.5) s = 20 ms have passed.
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64, RequestsPerWindow = 6_000 });
        using var _ = gate;
        var leases = Enumerable.Range(0, AimdLimit.InitialLimit).Select(_ => partition.Enter(new AdmissionRequest()).Admitted()).ToList();

        var ninth = partition.Enter(new AdmissionRequest());
        ninth.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(19));
        ninth.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(2));

        leases.Add(ninth.Admitted());
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void UpdateLimits_WithAdaptiveConcurrency_KeepsTheLearnedLimit()
    {
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64 });
        using var _ = gate;
        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        time.Advance(TimeSpan.FromMilliseconds(100));
        partition.RecordOutcome(lease, PacingSignal.Overloaded);
        lease.Dispose();
        int learned = partition.ConcurrencyLimit;
        Assert.True(learned < AimdLimit.InitialLimit);

        partition.UpdateLimits(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64 });

        Assert.Equal(learned, partition.ConcurrencyLimit);
    }

    [Fact]
    public void UpdateLimits_WithAdaptiveConcurrency_CapsTheLearnedLimitAtTheNewMaximum()
    {
        var (partition, _, gate) = GateTestKit.Create(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64 });
        using var _ = gate;

        partition.UpdateLimits(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 2 });

        Assert.Equal(2, partition.ConcurrencyLimit);
    }

    [Fact]
    public void ObserveRequests_AStatedBudgetLooserThanTheLearnedOne_LetsTheWaiterInSooner()
    {
        // Four start, the fourth is refused: the probe paces at 3 a second from an empty bucket, so the next request
        // waits a third of a second. Headers then state 600 a minute (the probe's first rate is only a lower bound),
        // and the waiter goes a tenth of a second after, not a third.
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits());
        using var _ = gate;
        var leases = Enumerable.Range(0, 4).Select(_ => partition.Enter(new AdmissionRequest()).Admitted()).ToList();
        partition.RecordOutcome(leases[3], PacingSignal.Throttled);
        Assert.Equal(BudgetSource.Throttling, partition.GetSnapshot().RequestBudgetSource);
        var waiter = partition.Enter(new AdmissionRequest());
        waiter.AssertWaiting();

        partition.ObserveRequests(remaining: 600, resetAt: time.GetUtcNow(), limit: 600);
        Assert.Equal(BudgetSource.Headers, partition.GetSnapshot().RequestBudgetSource);
        time.Advance(TimeSpan.FromMilliseconds(100));

        waiter.Admitted().Dispose();
        leases.ForEach(l => l.Dispose());
    }

    [Fact]
    public void ConcurrencyLimit_WithAdaptiveConcurrency_FollowsTheMeasuredLatency_NotTheTimeSinceTheFirstAdmission()
    {
        // 100 requests a second at a measured 0.1 s latency need ceil(100 x 0.1 x 1.5) + 1 = 16 in flight (Little's
        // law with headroom), ten seconds later as much as at once.
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { AdaptiveConcurrency = true, MaxConcurrency = 64, RequestsPerWindow = 6_000 });
        using var _ = gate;
        var lease = partition.Enter(new AdmissionRequest()).Admitted();
        time.Advance(TimeSpan.FromMilliseconds(100));
        partition.RecordOutcome(lease, PacingSignal.Success);
        lease.Dispose();

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(16, partition.ConcurrencyLimit);
    }

    [Fact]
    public void RecordOutcome_ARateMeasuredWhileTheConcurrencyLimitHeldRequestsBack_IsOnlyALowerBound()
    {
        // One at a time: the first 429 marks a full moment; six more admissions, each held back by the limit of one,
        // then a 429 on the last a second later. Six a second is only what Sluice let through, so the probe climbs
        // from it (360 a minute now) instead of cutting below it as from a measurement (0.9 x 360).
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        using var _ = gate;
        var previous = partition.Enter(new AdmissionRequest()).Admitted();
        var next = partition.Enter(new AdmissionRequest());
        partition.RecordOutcome(previous, PacingSignal.Throttled);
        previous.Dispose();
        previous = next.Admitted();
        for (int i = 0; i < 5; i++)
        {
            next = partition.Enter(new AdmissionRequest());
            time.Advance(TimeSpan.FromMilliseconds(200));
            previous.Dispose();
            previous = next.Admitted();
        }

        partition.RecordOutcome(previous, PacingSignal.Throttled);

        var snapshot = partition.GetSnapshot();
        Assert.Equal(BudgetSource.Throttling, snapshot.RequestBudgetSource);
        Assert.Equal(360, snapshot.RequestsPerMinute!.Value, precision: 6);
        previous.Dispose();
    }

    [Fact]
    public void ObserveAnswerBudget_ForAnAdmittedLease_CreditsWhatRefilledSinceItsAdmission()
    {
        // 100 output tokens a second, a second's worth of burst; the answer's count of none left is a second old.
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 6_000 });
        using var _ = gate;
        var lease = partition.Enter(new AdmissionRequest { OutputTokens = 100 }).Admitted();
        time.Advance(TimeSpan.FromSeconds(1));

        partition.ObserveAnswerBudget(BudgetDimension.OutputTokens, 0, time.GetUtcNow().AddSeconds(60), limit: null, lease);

        Assert.Equal(100, Output(partition).Available, precision: 6);
        lease.Dispose();
    }

    [Fact]
    public void ObserveAnswerBudget_ForARefusedLease_TakesTheCountAsOfNow()
    {
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits { OutputTokensPerWindow = 6_000, MaxConcurrency = 1 });
        using var _ = gate;
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var refused = partition.TryAcquire(new AdmissionRequest());
        Assert.False(refused.IsAdmitted);

        partition.ObserveAnswerBudget(BudgetDimension.OutputTokens, 0, time.GetUtcNow().AddSeconds(60), limit: null, refused);

        Assert.Equal(0, Output(partition).Available, precision: 6);
    }

    [Fact]
    public void ObserveBudget_AnUnknownDimension_IsRefusedByName()
    {
        var (partition, time, gate) = GateTestKit.Create(new PartitionLimits());
        using var _ = gate;

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => partition.ObserveBudget((BudgetDimension)99, 0, time.GetUtcNow()));

        Assert.Contains("Unknown budget dimension", error.Message, StringComparison.Ordinal);
    }

    private static BudgetSnapshot Output(GatePartition partition) =>
        partition.GetSnapshot().Budgets.Single(b => b.Dimension == BudgetDimension.OutputTokens);
}
