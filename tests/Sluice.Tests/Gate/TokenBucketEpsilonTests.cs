using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The bucket forgives a billionth of a unit of floating-point noise: a level that short of a cost still covers it.</summary>
public sealed class TokenBucketEpsilonTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void TimeUntil_ACostABillionthOverTheLevel_NeedsNoWait()
    {
        var bucket = new TokenBucket(1, 10, now: 0, Frequency);
        bucket.Spend(10);

        // Exactly the forgiven noise: no wait, not a tick.
        Assert.Equal(TimeSpan.Zero, bucket.TimeUntil(1e-9, now: 0));
    }
}
