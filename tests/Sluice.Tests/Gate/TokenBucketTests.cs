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

    [Fact]
    public void Reconfigure_ToASmallerCapacity_CapsTheLevel_AndNeverRaisesIt()
    {
        var full = new TokenBucket(10, 10, now: 0, Frequency);
        full.Reconfigure(10, 4, now: 0);
        Assert.Equal(4, full.Level, precision: 9);
        Assert.Equal(4, full.Capacity, precision: 9);

        var low = new TokenBucket(10, 10, now: 0, Frequency);
        low.Spend(8);
        low.Reconfigure(10, 4, now: 0);
        Assert.Equal(2, low.Level, precision: 9);
    }

    [Fact]
    public void Reconfigure_RefillsAtTheOldRateUpToNow_ThenUsesTheNewOne()
    {
        // Empty at 0; 1 s at 10/s gives 10, then the rate becomes 1/s: 5 more tokens take 5 s.
        var bucket = new TokenBucket(10, 100, now: 0, Frequency);
        bucket.Spend(100);

        bucket.Reconfigure(1, 100, now: Frequency);

        Assert.Equal(10, bucket.Level, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(5), bucket.TimeUntil(15, now: Frequency));
    }

    [Fact]
    public void Observe_RefillsUpToNowBeforeLoweringTheLevel()
    {
        // Empty at 0; by 1 s, 10 are back. The provider says 50 remain: the level is 10, not the stale 0.
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);
        bucket.Spend(10);

        bucket.Observe(remaining: 50, limit: 60, resetAt: 61 * Frequency, now: Frequency);

        Assert.Equal(10, bucket.Level, precision: 9);
    }

    [Fact]
    public void Observe_TheProvidersSlowerRate_GovernsRefillAndWaitUntilItsReset()
    {
        // Ours: 10/s. Provider: 0 of 120 left, whole in 60 s: 2/s until then.
        var bucket = new TokenBucket(10, 1_000, now: 0, Frequency);
        bucket.Spend(1_000);
        bucket.Observe(remaining: 0, limit: 120, resetAt: 60 * Frequency, now: 0);

        Assert.Equal(TimeSpan.FromSeconds(5), bucket.TimeUntil(10, now: 0));

        // 130 tokens: 120 by the reset at 2/s, the last 10 at our 10/s.
        Assert.Equal(TimeSpan.FromSeconds(61), bucket.TimeUntil(130, now: 0));

        var at5 = bucket;
        at5.Refill(5 * Frequency);
        Assert.Equal(10, at5.Level, precision: 6);

        bucket.Refill(70 * Frequency);
        Assert.Equal(120 + 100, bucket.Level, precision: 6);
    }

    [Fact]
    public void Observe_AFasterImpliedRate_OrMoreRemaining_ChangesNothing()
    {
        var bucket = new TokenBucket(1, 10, now: 0, Frequency);
        bucket.Spend(5);

        // 0 of 600 left in 60 s implies 10/s, faster than ours; 20 remaining is more than we hold.
        bucket.Observe(remaining: 20, limit: 600, resetAt: 60 * Frequency, now: 0);

        Assert.Equal(5, bucket.Level, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(3), bucket.TimeUntil(8, now: 0));
    }

    [Theory]
    [InlineData(5, 60, 0)]    // the reset is not in the future: the provider's budget is whole again
    [InlineData(-1, 60, 60)]  // a negative count is no count
    [InlineData(5, 0, 60)]    // no limit, no implied rate
    public void Observe_WithoutAUsableView_IsIgnored(double remaining, double limit, long resetSeconds)
    {
        var bucket = new TokenBucket(10, 100, now: 0, Frequency);

        bucket.Observe(remaining, limit, resetAt: resetSeconds * Frequency, now: 0);

        Assert.Equal(100, bucket.Level, precision: 9);
        bucket.Spend(100);
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.TimeUntil(10, now: 0));
    }

    [Fact]
    public void Empty_SpendsWhatIsLeft_ButKeepsADebt()
    {
        var full = new TokenBucket(10, 10, now: 0, Frequency);
        full.Empty(now: 0);
        Assert.Equal(0, full.Level, precision: 9);

        var indebted = new TokenBucket(10, 10, now: 0, Frequency);
        indebted.Spend(15);
        indebted.Empty(now: 0);
        Assert.Equal(-5, indebted.Level, precision: 9);

        // Empty refills first: by 2 s the debt is repaid and 15 more came back, then all of it is spent.
        var later = new TokenBucket(10, 10, now: 0, Frequency);
        later.Spend(15);
        later.Empty(now: 2 * Frequency);
        Assert.Equal(0, later.Level, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(0.5), later.TimeUntil(5, now: 2 * Frequency));
    }

    [Fact]
    public void Adjust_ChargesBelowZero_AndRefundsUpToCapacity()
    {
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);

        bucket.Adjust(25);
        Assert.Equal(-15, bucket.Level, precision: 9);
        bucket.Adjust(-5);
        Assert.Equal(-10, bucket.Level, precision: 9);
        bucket.Adjust(-100);
        Assert.Equal(10, bucket.Level, precision: 9);
    }

    [Fact]
    public void TimeUntil_ACostAboveCapacity_WaitsForAFullBucketOnly()
    {
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);
        Assert.Equal(TimeSpan.Zero, bucket.TimeUntil(50, now: 0));

        bucket.Spend(50);
        Assert.Equal(-40, bucket.Level, precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(5), bucket.TimeUntil(50, now: 0));
    }

    [Fact]
    public void TimeUntil_WithoutRefill_IsNever()
    {
        var bucket = new TokenBucket(0, 10, now: 0, Frequency);
        bucket.Spend(10);

        Assert.Equal(TimeSpan.MaxValue, bucket.TimeUntil(1, now: 0));
        Assert.Equal(TimeSpan.Zero, new TokenBucket(0, 10, now: 0, Frequency).TimeUntil(10, now: 0));
    }

    [Fact]
    public void Refill_AtOrBeforeTheLastUpdate_ChangesNothing()
    {
        var bucket = new TokenBucket(10, 10, now: 5 * Frequency, Frequency);
        bucket.Spend(10);

        bucket.Refill(4 * Frequency);
        Assert.Equal(0, bucket.Level, precision: 9);
        bucket.Refill(5 * Frequency);
        Assert.Equal(0, bucket.Level, precision: 9);
        bucket.Refill(6 * Frequency);
        Assert.Equal(10, bucket.Level, precision: 9);
    }
}
