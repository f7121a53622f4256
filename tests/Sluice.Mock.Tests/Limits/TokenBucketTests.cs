using Sluice.Mock.Limits;

namespace Sluice.Mock.Tests.Limits;

public class TokenBucketTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void Take_UpToCapacity_ThenRefuses()
    {
        var bucket = new TokenBucket(capacity: 3, perMinute: 60, now: 0, Frequency);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(bucket.CanTake(1));
            bucket.Take(1);
        }

        Assert.False(bucket.CanTake(1));
        Assert.Equal(0, bucket.Remaining);
    }

    [Fact]
    public void Refill_IsContinuous_AndStopsAtCapacity()
    {
        var bucket = new TokenBucket(capacity: 10, perMinute: 240, now: 0, Frequency);
        bucket.Take(10);

        bucket.Refill(TimeSpan.FromMilliseconds(250).Ticks);
        Assert.Equal(1, bucket.Remaining);
        bucket.Refill(TimeSpan.FromMilliseconds(1000).Ticks);
        Assert.Equal(4, bucket.Remaining);
        bucket.Refill(TimeSpan.FromSeconds(60).Ticks);
        Assert.Equal(10, bucket.Level);
    }

    [Fact]
    public void TimeUntilAvailable_IsExactlyEnough()
    {
        var bucket = new TokenBucket(capacity: 5, perMinute: 5, now: 0, Frequency);
        bucket.Take(5);

        var wait = bucket.TimeUntilAvailable(1);

        Assert.Equal(TimeSpan.FromSeconds(12), wait);
        bucket.Refill(wait.Ticks - TimeSpan.TicksPerMillisecond);
        Assert.False(bucket.CanTake(1));
        bucket.Refill(wait.Ticks);
        Assert.True(bucket.CanTake(1));
        Assert.Equal(TimeSpan.FromSeconds(48), bucket.TimeUntilFull());
    }

    [Fact]
    public void Oversized_IsTakenOnlyWhenFull_AndLeavesADebt()
    {
        var bucket = new TokenBucket(capacity: 10, perMinute: 600, now: 0, Frequency);
        bucket.Take(1);

        Assert.False(bucket.CanTake(50));
        AssertJustAtLeast(TimeSpan.FromMilliseconds(100), bucket.TimeUntilAvailable(50));

        bucket.Refill(TimeSpan.FromMilliseconds(100).Ticks);
        Assert.True(bucket.CanTake(50));
        bucket.Take(50);

        Assert.Equal(-40, bucket.Level, 9);
        Assert.Equal(0, bucket.Remaining);
        AssertJustAtLeast(TimeSpan.FromSeconds(4.1), bucket.TimeUntilAvailable(1));
        AssertJustAtLeast(TimeSpan.FromSeconds(5), bucket.TimeUntilFull());
    }

    [Fact]
    public void Reconfigure_ClampsToTheNewCapacity_AndKeepsADebt()
    {
        var full = new TokenBucket(capacity: 10, perMinute: 60, now: 0, Frequency);
        full.Reconfigure(capacity: 4, perMinute: 120);
        Assert.Equal(4, full.Level);

        var indebted = new TokenBucket(capacity: 10, perMinute: 60, now: 0, Frequency);
        indebted.Take(15);
        indebted.Reconfigure(capacity: 20, perMinute: 120);
        Assert.Equal(-5, indebted.Level);
    }

    // Waits are rounded up so that waiting them is always enough; floating point may add a tick.
    private static void AssertJustAtLeast(TimeSpan expected, TimeSpan actual) =>
        Assert.InRange(actual, expected, expected + TimeSpan.FromTicks(10));
}
