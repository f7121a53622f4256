using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class GateLeaseTests
{
    [Fact]
    public void Settle_ANegativeAmount_OrAMissingDimension_Throws_AndChangesNothing()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        var lease = partition.Enter(new AdmissionRequest(100)).Admitted();

        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Settle(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Settle(BudgetDimension.Requests, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Settle(BudgetDimension.TokensPerDay, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => lease.Reserved(BudgetDimension.RequestsPerDay));

        Assert.Equal(100, lease.ReservedTokens);
        Assert.Equal(900, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public void Settle_Twice_ChargesOnlyTheChangeFromWhatItLastHeld()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        var lease = partition.Enter(new AdmissionRequest(100)).Admitted();

        lease.Settle(300);
        lease.Settle(300);
        lease.Settle(250);

        Assert.Equal(250, lease.ReservedTokens);
        Assert.Equal(750, partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public void Rejection_HoldsNothing_AndItsDisposeReleasesNothing()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());

        var rejected = partition.TryAcquire(new AdmissionRequest(50));
        rejected.Dispose();

        Assert.False(rejected.IsAdmitted);
        Assert.Equal(0, rejected.ReservedTokens);
        Assert.Equal(0, rejected.Admission);
        Assert.Null(rejected.RetryAfter);
        waiting.AssertWaiting();
        Assert.Equal(1, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void TryAcquire_BehindAWaiter_IsRejectedWithoutARetryTime()
    {
        // Someone is ahead: when this caller could go depends on them, so the gate does not guess.
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        partition.Enter(new AdmissionRequest()).Admitted();
        partition.Enter(new AdmissionRequest()).AssertWaiting();

        var refused = partition.TryAcquire(new AdmissionRequest());

        Assert.Equal(GateRejectionReason.Unavailable, refused.Rejection);
        Assert.Null(refused.RetryAfter);
        Assert.Contains("'p'", refused.RejectionMessage);
    }

    [Fact]
    public void TryAcquire_AheadOfTheWaiters_ByPriorityOrAtFront_IsToldWhenToRetry()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        partition.Enter(new AdmissionRequest()).Admitted();
        var low = partition.Enter(new AdmissionRequest());

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(TimeSpan.FromMilliseconds(1), partition.TryAcquire(new AdmissionRequest(Priority: 1)).RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(1), partition.TryAcquire(new AdmissionRequest(AtFront: true)).RetryAfter);
        Assert.Null(partition.TryAcquire(new AdmissionRequest()).RetryAfter);
        low.AssertWaiting();
    }

    [Fact]
    public void Acquire_NegativeInputOrOutputTokens_Throws()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());

        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest { InputTokens = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest { OutputTokens = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => partition.TryAcquire(new AdmissionRequest(Tokens: -1)));
        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void ObserveBudget_AnUnknownDimension_Throws()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());

        Assert.Throws<ArgumentOutOfRangeException>(() => partition.ObserveBudget((BudgetDimension)42, 1, time.GetUtcNow().AddSeconds(1), 10));
    }

    [Theory]
    [InlineData(-1, 600)]
    [InlineData(5, 0)]
    [InlineData(5, -600)]
    public void ObserveBudget_AnImpossibleCount_IsIgnored(long remaining, long limit)
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 600, TokensPerWindow = 60_000, RequestsPerDay = 1_000 });

        foreach (var dimension in Enum.GetValues<BudgetDimension>())
        {
            partition.ObserveBudget(dimension, remaining, time.GetUtcNow().AddSeconds(30), limit);
        }

        var snapshot = partition.GetSnapshot();
        Assert.Equal(600, snapshot.RequestsPerMinute);
        Assert.Equal(60_000, snapshot.TokensPerMinute);
        Assert.All(snapshot.Budgets, b => Assert.Equal(BudgetSource.Configured, b.Source));
        Assert.Equal(10, snapshot.RequestsAvailable!.Value, precision: 6);
        Assert.Equal(1_000, snapshot.Budgets.Single(b => b.Dimension == BudgetDimension.RequestsPerDay).Available, precision: 6);
    }

    [Fact]
    public void PauseUntil_ThePast_IsIgnored()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());

        partition.PauseUntil(time.GetUtcNow());
        partition.PauseUntil(time.GetUtcNow().AddSeconds(-5));

        Assert.Null(partition.GetSnapshot().PausedUntil);
        Assert.True(partition.TryAcquire(new AdmissionRequest()).IsAdmitted);
    }

    [Fact]
    public void Resume_WhenRunning_ChangesNothing()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        using var holder = partition.Enter(new AdmissionRequest()).Admitted();
        var waiting = partition.Enter(new AdmissionRequest());

        partition.Resume();

        waiting.AssertWaiting();
        Assert.Null(partition.GetSnapshot().StopReason);
    }
}
