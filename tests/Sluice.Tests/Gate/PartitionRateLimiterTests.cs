using System.Threading.RateLimiting;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class PartitionRateLimiterTests
{
    [Fact]
    public void AttemptAcquire_WhenNoRoom_FailsWithRetryAfterMetadata()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6000, TokenBurst = 1000 });
        var limiter = partition.AsRateLimiter();

        using var first = limiter.AttemptAcquire(800);
        using var second = limiter.AttemptAcquire(500);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(3), retryAfter);
        Assert.Contains(MetadataName.RetryAfter.Name, second.MetadataNames);
    }

    [Fact]
    public async Task AcquireAsync_WaitsForTheGate_AndDisposingReleasesTheSlot()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        var limiter = partition.AsRateLimiter();
        var held = await limiter.AcquireAsync(1);

        var waiting = limiter.AcquireAsync(1).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, limiter.GetStatistics()!.CurrentQueuedCount);
        Assert.Null(limiter.IdleDuration);

        held.Dispose();
        using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(lease.IsAcquired);
        Assert.Equal(2, limiter.GetStatistics()!.TotalSuccessfulLeases);
    }

    [Fact]
    public async Task Chained_WhenTheOtherLimiterIsFull_RefusesWithoutTakingASlot()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 10 });
        using var outer = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 1, QueueLimit = 0 });
        using var chained = RateLimiter.CreateChained(outer, partition.AsRateLimiter());

        using var first = await chained.AcquireAsync(1);
        using var second = chained.AttemptAcquire(1);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.Equal(1, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Chained_WhenThePartitionIsFull_RefusesWithItsRetryAfter_AndGivesTheOtherPermitBack()
    {
        // The partition is the one that refuses here: one request a second, a burst of one, while the outer limiter has room.
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 });
        using var outer = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = 5, QueueLimit = 0 });
        using var chained = RateLimiter.CreateChained(outer, partition.AsRateLimiter());

        var first = await chained.AcquireAsync(1);
        using var second = chained.AttemptAcquire(1);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
        Assert.True(second.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.Equal(4, outer.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(1, partition.GetSnapshot().InFlight);

        first.Dispose();
        time.Advance(TimeSpan.FromSeconds(1));
        using var third = chained.AttemptAcquire(1);
        Assert.True(third.IsAcquired);
        Assert.Equal(4, outer.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(1, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void AttemptAcquire_WhenStopped_CarriesTheReasonButNoRetryAfter()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());
        var limiter = partition.AsRateLimiter();
        partition.Stop("key revoked");

        using var lease = limiter.AttemptAcquire(1);

        Assert.False(lease.IsAcquired);
        Assert.Equal([MetadataName.ReasonPhrase.Name], lease.MetadataNames);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Equal("key revoked", reason);
        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.Equal(1, limiter.GetStatistics()!.TotalFailedLeases);
    }

    [Fact]
    public void AttemptAcquire_Admitted_CarriesNoMetadata_AndStatisticsCountTheTokensLeft()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { TokensPerWindow = 6_000, TokenBurst = 1_000 });
        var limiter = partition.AsRateLimiter();

        using var lease = limiter.AttemptAcquire(250);

        Assert.True(lease.IsAcquired);
        Assert.Empty(lease.MetadataNames);
        Assert.False(lease.TryGetMetadata(MetadataName.ReasonPhrase.Name, out _));
        time.Advance(TimeSpan.FromMilliseconds(5));
        var statistics = limiter.GetStatistics()!;
        Assert.Equal(750, statistics.CurrentAvailablePermits);
        Assert.Equal(1, statistics.TotalSuccessfulLeases);
        Assert.Same(limiter, partition.AsRateLimiter());
    }

    [Fact]
    public void Statistics_WithoutATokenBudget_ReportUnlimitedPermits_AndIdleTimeOnceIdle()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits());
        var limiter = partition.AsRateLimiter();
        limiter.AttemptAcquire(1).Dispose();

        time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(long.MaxValue, limiter.GetStatistics()!.CurrentAvailablePermits);
        Assert.Equal(TimeSpan.FromSeconds(3), limiter.IdleDuration);
    }
}
