using CsCheck;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class TokenBucketTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void TimeUntil_IsExact_ForAnyRateCapacityLevelAndCost()
    {
        Gen.Select(Gen.Double[0.01, 10_000], Gen.Double[1, 100_000], Gen.Double[0, 1], Gen.Double[0.01, 2])
            .Sample((rate, capacity, fill, costShare) =>
            {
                var bucket = new TokenBucket(rate, capacity, now: 0, Frequency);
                bucket.Spend(capacity * fill);
                double cost = Math.Max(1e-3, capacity * costShare);

                var wait = bucket.TimeUntil(cost, now: 0);
                long at = wait.Ticks;
                var later = bucket;
                later.Refill(at);

                // At the computed instant the cost fits (or, above capacity, the bucket is full) …
                Assert.True(later.Level + 1e-6 >= Math.Min(cost, capacity), $"level {later.Level} < {cost} after {wait}");

                // … and a tick earlier it did not, unless no wait was needed.
                if (at > 1)
                {
                    var earlier = bucket;
                    earlier.Refill(at - 2);
                    Assert.True(earlier.Level < Math.Min(cost, capacity) + 1e-6);
                }
            }, iter: 2_000);
    }

    [Fact]
    public void Refill_NeverExceedsCapacity_AndAdjustRefundsAreCapped()
    {
        Gen.Select(Gen.Double[0.01, 1_000], Gen.Double[1, 10_000], Gen.Long[0, 10 * Frequency], Gen.Double[0, 20_000])
            .Sample((rate, capacity, elapsed, refund) =>
            {
                var bucket = new TokenBucket(rate, capacity, now: 0, Frequency);
                bucket.Spend(capacity / 2);
                bucket.Refill(elapsed);
                Assert.True(bucket.Level <= capacity);
                bucket.Adjust(-refund);
                Assert.True(bucket.Level <= capacity);
            });
    }

    [Fact]
    public void Observe_SlowsRefillUntilResetThenReturnsToConfiguredRate()
    {
        // Ours: 10/s, capacity 10. Provider: 0 left of 60, whole again in 60 s → 1/s until then.
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);
        bucket.Observe(remaining: 0, limit: 60, resetAt: 60 * Frequency, now: 0);

        Assert.Equal(TimeSpan.FromSeconds(5), bucket.TimeUntil(5, now: 0));
        bucket.Refill(60 * Frequency);
        Assert.Equal(10, bucket.Level, precision: 6);

        // After the reset, the configured rate applies again.
        bucket.Spend(10);
        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.TimeUntil(5, now: 60 * Frequency));
    }

    [Fact]
    public void Observe_ACountFromTheRequestsAdmission_AllowsForTheRefillSince()
    {
        // 100/s, 100 held, 40 spent at admission (t = 0); the answer comes 0.3 s later saying 60 remained.
        var bucket = new TokenBucket(100, 100, now: 0, Frequency);
        bucket.Spend(40);
        long answeredAt = 3 * Frequency / 10;

        bucket.Observe(remaining: 60, limit: 6_000, resetAt: Frequency, now: answeredAt, countedSince: 0);

        // The provider has refilled 30 since it counted: 90, the bucket's own level, stands; counted now, 60 would not.
        Assert.Equal(90, bucket.Level, precision: 6);
        bucket.Observe(remaining: 60, limit: 6_000, resetAt: Frequency, now: answeredAt);
        Assert.Equal(60, bucket.Level, precision: 6);
    }
}
