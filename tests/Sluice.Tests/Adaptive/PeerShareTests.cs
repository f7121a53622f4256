using Sluice.Adaptive;

namespace Sluice.Tests.Adaptive;

/// <summary>
/// The share of a provider budget learned from the provider's counts against this process's own spending. Timestamps
/// are milliseconds; the provider refills 10 a second and holds 10 (a second's worth), so reset = (10 − remaining) ÷ 10.
/// </summary>
public sealed class PeerShareTests
{
    private const long TicksPerSecond = 1000;
    private const double Rate = 10;

    [Fact]
    public void Share_BeforeAnyCount_IsWhole()
    {
        var share = new PeerShare(TicksPerSecond);

        Assert.Equal(1, share.Share);
        Assert.False(share.HasObserved);
    }

    [Fact]
    public void Observe_AloneOnTheKey_KeepsTheWholeBudget()
    {
        // Spending the whole refill with the provider's bucket half full: everyone is us, the fill is on target.
        var share = new PeerShare(TicksPerSecond);
        Spend(share, from: 0, to: 10_000, perSecond: Rate);
        for (long t = 0; t <= 10_000; t += 1_000)
        {
            Assert.False(share.Observe(t, remaining: 5, resetSeconds: 0.5, Rate));
        }

        Assert.Equal(1, share.Share);
    }

    [Fact]
    public void Observe_AloneOnTheKeyWithTheProviderEmpty_KeepsTheWholeBudget()
    {
        // Alone, emptying the provider's bucket is what a single process always did: no aiming at half full.
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 0, resetSeconds: 1, Rate);
        Spend(share, from: 1, to: 10_000, perSecond: Rate * PeerShare.AlonePart);
        for (long t = 1_000; t <= 10_000; t += 1_000)
        {
            share.Observe(t, remaining: 0, resetSeconds: 1, Rate);
        }

        Assert.Equal(1, share.Share);
    }

    [Fact]
    public void Observe_WhenOthersSpendThreeQuarters_SettlesOnAQuarter()
    {
        // We spend 2.5 a second; the provider's bucket holds steady at half, so everyone spends its 10 a second.
        var share = new PeerShare(TicksPerSecond);
        Spend(share, from: 0, to: 30_000, perSecond: 2.5);
        for (long t = 0; t <= 30_000; t += 2_000)
        {
            share.Observe(t, remaining: 5, resetSeconds: 0.5, Rate);
        }

        Assert.Equal(0.25, share.Share, precision: 2);
    }

    [Fact]
    public void Observe_WhenTheProviderIsDraining_AimsBelowOurPartOfWhatEveryoneSpent()
    {
        // Two seconds in which we spent 10 and the provider's bucket fell from 8 to 0: everyone spent 28. Our part is
        // 10 / 28; at an empty bucket the estimate aims a quarter under it, and half the way (geometric) is taken.
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 8, resetSeconds: 0.2, Rate);
        Spend(share, from: 1, to: 2_000, perSecond: 5);

        Assert.True(share.Observe(2_000, remaining: 0, resetSeconds: 1, Rate));

        double estimate = 10.0 / 28 * (1 + (PeerShare.FillGain * (0 - PeerShare.TargetFill)));
        Assert.Equal(Math.Sqrt(Math.Max(estimate, 1 / PeerShare.MaxStep)), share.Share, precision: 6);
    }

    [Fact]
    public void Observe_TheFirstCountOfABusyKey_SetsAShareAtOnce()
    {
        // We sent 2 at once; 300 ms later the provider's 10-a-second bucket holds 1 and is full again in 0.9 s: 9 are
        // missing, and 3 refilled since we started, so everyone spent 12 (taking the bucket as full when we started):
        // our part is 2 / 12.
        var share = new PeerShare(TicksPerSecond);
        share.Spent(0, 1);
        share.Spent(0, 1);

        Assert.True(share.Observe(300, remaining: 1, resetSeconds: 0.9, Rate));

        // Aimed by the fill, as every estimate among others is: a tenth full, 20% under our part.
        Assert.Equal(2.0 / 12 * (1 + (PeerShare.FillGain * (0.1 - PeerShare.TargetFill))), share.Share, precision: 9);
        Assert.True(share.HasObserved);
    }

    [Fact]
    public void Observe_TheFirstCountAlone_KeepsTheWholeBudget()
    {
        // Our first wave of 8 took 8 of the 10: we are everyone.
        var share = new PeerShare(TicksPerSecond);
        for (int i = 0; i < 8; i++)
        {
            share.Spent(0, 1);
        }

        Assert.False(share.Observe(0, remaining: 2, resetSeconds: 0.8, Rate));
        Assert.Equal(1, share.Share);
    }

    [Fact]
    public void Observe_TheFirstCountOfABucketHoldingAMinute_SetsNothing()
    {
        // A bucket a minute deep may have been emptied long before we started: the first count proves nothing.
        var share = new PeerShare(TicksPerSecond);
        share.Spent(0, 1);

        Assert.False(share.Observe(300, remaining: 0, resetSeconds: 60, Rate));
        Assert.Equal(1, share.Share);
    }

    [Fact]
    public void Observe_TheFirstCountWithAResetToTheSecond_SetsNothing()
    {
        // Anthropic writes 0.2 s as the next whole second: the bucket reads as holding up to twice what it does, and the
        // missing half would be taken for others' spending.
        var share = new PeerShare(TicksPerSecond);
        share.Spent(0, 1);

        Assert.False(share.Observe(30, remaining: 8, resetSeconds: 0.97, Rate, resetToTheSecond: true));
        Assert.Equal(1, share.Share);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Observe_AloneWithResetsRoundedUpToTheSecond_KeepsTheBudgetOnlyWhenToldSo(bool toldRounded)
    {
        // Alone, spending 8 of the 10 a second the provider refills: its bucket stays nearly full. Every reset is written
        // as the next whole second, so a count reads the bucket as holding 10 to 20, a full bucket as half empty, and
        // the refill it could not hold as others' spending. Told the resets are rounded, the process keeps its budget;
        // not told, it gives a part of it away (a lone proxy behind the mock fell to a share of 0.06 this way).
        var share = new PeerShare(TicksPerSecond);
        double level = 10;
        long last = 0;
        double total = 0;
        int counts = 0;
        for (long t = 125; t <= 30_000; t += 125)
        {
            level = Math.Min(10, level + ((t - last) / 1000.0 * Rate)) - 1;
            share.Spent(t, 1);
            last = t;
            if (t % 375 == 0)
            {
                double exactReset = (t / 1000.0) + ((10 - level) / Rate);
                share.Observe(t, Math.Floor(level), Math.Ceiling(exactReset) - (t / 1000.0), Rate, toldRounded);
                total += share.Share;
                counts++;
            }
        }

        double mean = total / counts;
        Assert.True(toldRounded ? mean >= 0.95 : mean < 0.9, $"the mean share was {mean:F3}");
    }

    [Fact]
    public void Observe_ASingleEstimate_MovesTheShareAtMostTwofold()
    {
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);
        Spend(share, from: 1, to: 1_000, perSecond: 0.001 + (PeerShare.MinOwn / 1.0));

        // Four of ours against everyone's ten a second and more: far below half, yet the share only halves, blended.
        Assert.True(share.Observe(1_000, remaining: 0, resetSeconds: 1, Rate));
        Assert.Equal(Math.Sqrt(1 / PeerShare.MaxStep), share.Share, precision: 6);
    }

    [Fact]
    public void Observe_WhenTheProviderBucketStaysFull_DoublesTheShareEveryHalfSecond()
    {
        var share = new PeerShare(TicksPerSecond);
        Assert.False(share.Throttled(0, 0)); // nothing observed yet: no effect
        share.Observe(0, remaining: 10, resetSeconds: 0, Rate);
        share.Throttled(admittedAt: 1, now: 1);
        share.Throttled(admittedAt: 2, now: 2);
        double cut = share.Share;

        // The budget goes unspent: the bucket is full at both ends of a span of half a second, with nothing of ours in
        // it (a span as short as that measures nothing otherwise).
        Assert.False(share.Observe(400, remaining: 10, resetSeconds: 0, Rate));
        Assert.True(share.Observe(600, remaining: 10, resetSeconds: 0, Rate));

        Assert.Equal(Math.Min(1, cut * PeerShare.MaxStep), share.Share, precision: 9);
    }

    [Fact]
    public void Observe_TooShortASpanOrTooFewOfOurs_WaitsForMore()
    {
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);
        Spend(share, from: 1, to: 3_000, perSecond: 1);

        // Under a second: no measurement. Three seconds but only three of ours: still none, until four seconds pass.
        Assert.False(share.Observe(900, remaining: 0, resetSeconds: 1, Rate));
        Assert.False(share.Observe(3_000, remaining: 0, resetSeconds: 1, Rate));
        Assert.Equal(1, share.Share);
        Assert.True(share.Observe(4_000, remaining: 0, resetSeconds: 1, Rate));
        Assert.True(share.Share < 1);
    }

    [Fact]
    public void Observe_ACountOlderThanTheLast_IsIgnored()
    {
        var share = new PeerShare(TicksPerSecond);
        share.Observe(2_000, remaining: 5, resetSeconds: 0.5, Rate);
        Spend(share, from: 0, to: 4_000, perSecond: 5);

        Assert.False(share.Observe(1_000, remaining: 0, resetSeconds: 1, Rate));
        Assert.Equal(1, share.Share);
    }

    [Theory]
    [InlineData(-1, 0.5, Rate)]
    [InlineData(5, -0.5, Rate)]
    [InlineData(5, 0.5, 0)]
    [InlineData(double.NaN, 0.5, Rate)]
    public void Observe_ACountThatMakesNoSense_IsIgnored(double remaining, double reset, double rate)
    {
        var share = new PeerShare(TicksPerSecond);

        Assert.False(share.Observe(0, remaining, reset, rate));
        Assert.False(share.HasObserved);
    }

    [Fact]
    public void Throttled_CutsOncePerRefusalEvent()
    {
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);

        Assert.True(share.Throttled(admittedAt: 100, now: 110));
        Assert.Equal(PeerShare.ThrottleCut, share.Share, precision: 9);

        // Admitted before the cut: refused by the same event.
        Assert.False(share.Throttled(admittedAt: 105, now: 120));
        Assert.Equal(PeerShare.ThrottleCut, share.Share, precision: 9);

        Assert.True(share.Throttled(admittedAt: 111, now: 130));
        Assert.Equal(PeerShare.ThrottleCut * PeerShare.ThrottleCut, share.Share, precision: 9);
    }

    [Fact]
    public void Throttled_NeverCutsBelowTheLeastShare()
    {
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);
        for (int i = 1; i < 100; i++)
        {
            share.Throttled(admittedAt: i, now: i);
        }

        Assert.Equal(PeerShare.MinShare, share.Share);
        Assert.False(share.Throttled(admittedAt: 200, now: 200));
    }

    [Fact]
    public void Refused_IsNotCountedAsOurs()
    {
        // We sent 20 in two seconds, 10 of them refused; everyone spent the provider's 20. Counting the refused as ours
        // would read the share as whole.
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);
        Spend(share, from: 1, to: 2_000, perSecond: 10);
        for (int i = 0; i < 10; i++)
        {
            share.Refused(1_500, 1);
        }

        share.Observe(2_000, remaining: 5, resetSeconds: 0.5, Rate);

        Assert.Equal(Math.Sqrt(0.5), share.Share, precision: 6);
    }

    [Fact]
    public void Observe_ACountOlderThanTheHistoryKept_MeasuresNothing()
    {
        // More records than the history holds (one every 30 ms for 45 s): a count from the start is too old to know
        // what we had spent by then, so it only starts a new span.
        var share = new PeerShare(TicksPerSecond);
        share.Observe(0, remaining: 5, resetSeconds: 0.5, Rate);
        for (long t = 30; t <= 45_000; t += 30)
        {
            share.Spent(t, 1);
        }

        Assert.False(share.Observe(5_000, remaining: 0, resetSeconds: 1, Rate));
        Assert.Equal(1, share.Share);
    }

    /// <summary>Spends at an even <paramref name="perSecond"/>, one unit at a time, over (from, to].</summary>
    private static void Spend(PeerShare share, long from, long to, double perSecond)
    {
        long count = (long)Math.Round((to - from) / 1000.0 * perSecond);
        for (long i = 1; i <= count; i++)
        {
            share.Spent(from + ((to - from) * i / count), 1);
        }
    }
}
