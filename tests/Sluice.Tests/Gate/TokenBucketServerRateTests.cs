using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// The provider's slower refill rate (from <see cref="TokenBucket.Observe"/>) on a clock that does not start at zero:
/// the arithmetic must measure from the bucket's own instants, not from the clock's origin.
/// </summary>
public sealed class TokenBucketServerRateTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;
    private const long T0 = 100 * Frequency;

    [Fact]
    public void Refill_UnderTheProvidersRate_CountsOnlyTheTimeSinceTheLastUpdate()
    {
        // Ours: 10/s, capacity 10. Provider at t0: 0 left of 60, whole again in 60 s → 1/s until then.
        var bucket = new TokenBucket(10, 10, now: T0, Frequency);
        bucket.Observe(remaining: 0, limit: 60, resetAt: T0 + (60 * Frequency), now: T0);

        bucket.Refill(T0 + (5 * Frequency));

        Assert.Equal(5, bucket.Level, precision: 6);
    }

    [Fact]
    public void TimeUntil_WhenTheProvidersWindowEndsFirst_AddsTheRestAtTheConfiguredRate()
    {
        // Ours: 10/s. Provider at t0: 0 left of 2, whole again in 2 s → 1/s for 2 s (2 tokens), then 10/s for the other 3.
        var bucket = new TokenBucket(10, 10, now: T0, Frequency);
        bucket.Observe(remaining: 0, limit: 2, resetAt: T0 + (2 * Frequency), now: T0);

        Assert.Equal(TimeSpan.FromSeconds(2.3), bucket.TimeUntil(5, now: T0));
    }

    [Fact]
    public void TimeUntil_WhenTheProvidersRefillCoversTheCostExactly_IsTheProvidersTime_EvenAfterOurRateDropsToZero()
    {
        // Provider: 0 left of 60, whole again in 60 s → 1/s. Our own rate then drops to zero (a stop-the-world
        // reconfiguration): the provider's refill alone still brings 60 tokens by its reset, so 60 is 60 s away, not never.
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);
        bucket.Observe(remaining: 0, limit: 60, resetAt: 60 * Frequency, now: 0);
        bucket.Reconfigure(ratePerSecond: 0, capacity: 100, now: 0);

        Assert.Equal(TimeSpan.FromSeconds(60), bucket.TimeUntil(60, now: 0));
    }

    [Fact]
    public void Observe_ACountFromTheRequestsAdmission_CreditsOnlyTheRefillBetweenThatAdmissionAndNow()
    {
        // 100/s, full at t0; 40 spent at admission (t0); the answer comes 0.3 s later saying only 10 remained.
        var bucket = new TokenBucket(100, 100, now: T0, Frequency);
        bucket.Spend(40);
        long answeredAt = T0 + (3 * Frequency / 10);

        bucket.Observe(remaining: 10, limit: 6_000, resetAt: T0 + Frequency, now: answeredAt, countedSince: T0);

        // 10 then, plus 0.3 s × 100/s refilled since: 40 now (the bucket alone would say 90).
        Assert.Equal(40, bucket.Level, precision: 6);
    }

    [Fact]
    public void Observe_TheImpliedRate_IsWhatTheProviderHasYetToRefill_OverTheTimeToItsReset()
    {
        // Ours: 10/s. Provider: 30 left of 60, whole again in 60 s → it refills 30 in 60 s: 0.5/s.
        var bucket = new TokenBucket(10, 10, now: 0, Frequency);
        bucket.Observe(remaining: 30, limit: 60, resetAt: 60 * Frequency, now: 0);
        bucket.Spend(10);

        Assert.Equal(TimeSpan.FromSeconds(10), bucket.TimeUntil(5, now: 0));
    }

    [Fact]
    public void Observe_AnImpliedRateNoSlowerThanOurs_IsNotKept_SoARaisedRateAppliesAtOnce()
    {
        // Ours: 1/s. Provider: 0 left of 60, whole again in 60 s → 1/s, no slower than ours: nothing to slow.
        var bucket = new TokenBucket(1, 60, now: 0, Frequency);
        bucket.Spend(60);
        bucket.Observe(remaining: 0, limit: 60, resetAt: 60 * Frequency, now: 0);

        // Only a strictly slower provider rate is held until the reset, so raising ours to 10/s takes effect now.
        bucket.Reconfigure(ratePerSecond: 10, capacity: 60, now: 0);

        Assert.Equal(TimeSpan.FromSeconds(1), bucket.TimeUntil(10, now: 0));
    }
}
