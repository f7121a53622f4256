using Sluice.Dispatch;

namespace Sluice.Tests.Dispatch;

public sealed class LatencyTrackerTests
{
    [Fact]
    public void Quantile_IsUnknown_UntilTheMinimumSamplesAreIn()
    {
        var tracker = new LatencyTracker();
        Record(tracker, LatencyTracker.MinSamples - 1, TimeSpan.FromMilliseconds(100));
        Assert.Null(tracker.Quantile(0.5));

        tracker.Record(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(100), tracker.Quantile(0.5));
    }

    [Fact]
    public void Record_IgnoresANegativeLatency_ButCountsZero()
    {
        // A clock read out of order says nothing about how long an answer takes; zero is a real (instant) answer.
        var tracker = new LatencyTracker();
        Record(tracker, LatencyTracker.MinSamples - 1, TimeSpan.FromMilliseconds(100));

        tracker.Record(TimeSpan.FromTicks(-1));
        Assert.Null(tracker.Quantile(0.5));

        tracker.Record(TimeSpan.Zero);
        Assert.Equal(TimeSpan.Zero, tracker.Quantile(0));
    }

    [Fact]
    public void Quantile_OutsideZeroToOne_IsTheSmallestOrTheLargestSample()
    {
        var tracker = new LatencyTracker();
        for (int i = 1; i <= 40; i++)
        {
            tracker.Record(TimeSpan.FromMilliseconds(i));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(1), tracker.Quantile(0));
        Assert.Equal(TimeSpan.FromMilliseconds(1), tracker.Quantile(-3));
        Assert.Equal(TimeSpan.FromMilliseconds(40), tracker.Quantile(1));
        Assert.Equal(TimeSpan.FromMilliseconds(40), tracker.Quantile(7));
        Assert.Equal(TimeSpan.FromMilliseconds(10), tracker.Quantile(0.25));   // nearest rank: the 10th of 40
        Assert.Equal(TimeSpan.FromMilliseconds(11), tracker.Quantile(0.251));  // past it: the 11th
    }

    [Fact]
    public void Quantile_WhenTheRingIsFull_ForgetsTheOldestFirst()
    {
        var tracker = new LatencyTracker();
        tracker.Record(TimeSpan.FromSeconds(9));   // the oldest, and the slowest
        Record(tracker, LatencyTracker.Capacity - 1, TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromSeconds(9), tracker.Quantile(1));

        // One more sample overwrites the oldest, not another: the slow one is gone once the sorted copy refreshes.
        Record(tracker, 16, TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(200), tracker.Quantile(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), tracker.Quantile(0.5));
    }

    [Fact]
    public void Quantile_WhenFull_RefreshesItsSortedCopyEverySixteenSamples_NotOnEveryRead()
    {
        // The documented trade: a full ring is sorted again after 16 new samples, so most readers do not sort, and a
        // reading lags by at most 15 samples of 256.
        var tracker = new LatencyTracker();
        Record(tracker, LatencyTracker.Capacity, TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(100), tracker.Quantile(1));

        Record(tracker, 15, TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), tracker.Quantile(1));
        tracker.Record(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.Quantile(1));

        // Counted afresh from that refresh.
        tracker.Record(TimeSpan.FromSeconds(5));
        Assert.Equal(TimeSpan.FromSeconds(1), tracker.Quantile(1));
    }

    private static void Record(LatencyTracker tracker, int count, TimeSpan latency)
    {
        for (int i = 0; i < count; i++)
        {
            tracker.Record(latency);
        }
    }
}
