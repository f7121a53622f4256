using Sluice.Adaptive;

namespace Sluice.Tests.Adaptive;

/// <summary>
/// The edges of <see cref="RateProbe"/>'s rules, each checked on both sides: when a span measures, when a flood of
/// refusals is "overwhelmed", which refusals count, and the bounds of the ramp and the cubic curve. Timestamps are
/// milliseconds.
/// </summary>
public sealed class RateProbeBoundaryTests
{
    private const long TicksPerSecond = 1000;

    [Fact]
    public void FirstThrottle_AfterMoreThanASecond_CountsWhatPassedOverTheTimeSinceTheFirstStart()
    {
        var probe = new RateProbe(TicksPerSecond);
        for (long t = 0; t <= 5000; t += 500)
        {
            probe.Started(t);
        }

        // Eleven started over 5 s and the last was refused: ten passed in 5 s, a lower bound of 2 a second.
        Assert.True(probe.Throttled(admission: 11, startedAt: 5000, now: 5000));
        Assert.Equal(2, probe.Ceiling!.Value, precision: 9);
        Assert.True(probe.IsRamping);
        Assert.False(probe.IsMeasured);
    }

    [Fact]
    public void FirstThrottle_WithOneRequestPassed_SetsARate()
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);
        probe.Started(0);

        Assert.True(probe.Throttled(admission: 2, startedAt: 0, now: 0));
        Assert.Equal(1, probe.Ceiling!.Value, precision: 9);
    }

    [Fact]
    public void TheRamp_IsCappedAtTheMaximumRampRate_AndDoesNotShrinkBeforeTheCut()
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);
        probe.Started(0);
        Assert.True(probe.Throttled(admission: 2, startedAt: 0, now: 0));

        Assert.Equal(RateProbe.MaxRampRate, probe.RatePerSecond(1_000_000));

        // Asked about an instant before the cut (a timestamp read before the lock was taken): the rate at the cut.
        Assert.Equal(1, probe.RatePerSecond(-1000)!.Value, precision: 9);
    }

    [Fact]
    public void ASlowLimiter_IsPacedAtTheMinimumRate_NeverBelowIt()
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);
        probe.Started(0);

        // One passed in 100 s: 0.01 a second, raised to the minimum.
        Assert.True(probe.Throttled(admission: 2, startedAt: 100_000, now: 100_000));
        Assert.Equal(RateProbe.MinRatePerSecond, probe.Ceiling!.Value, precision: 9);

        // The next refusal cuts from the ramp (just above the minimum): the curve starts at 90% of it, held at the minimum.
        Assert.True(probe.Throttled(admission: 3, startedAt: 100_001, now: 100_001));
        Assert.Equal(RateProbe.MinRatePerSecond, probe.RatePerSecond(100_001)!.Value, precision: 9);
    }

    [Fact]
    public void AfterAMeasurement_TheRateFollowsTheCubicCurve_SteeperAboveTheCeiling_AndBounded()
    {
        var probe = MeasuredAt(ceiling: 50, out long cut);
        double c = (1 - RateProbe.BackoffRatio) / Math.Pow(RateProbe.RecoveryTime.TotalSeconds, 3);

        Assert.Equal(45, probe.RatePerSecond(cut)!.Value, precision: 9);                       // β·W at the cut
        Assert.Equal(50 * (1 - c), probe.RatePerSecond(cut + 5000)!.Value, precision: 9);       // a second short of K
        Assert.Equal(50, probe.RatePerSecond(cut + 6000)!.Value, precision: 9);                 // W at K
        Assert.Equal(50 * (1 + (RateProbe.ProbeGain * c)), probe.RatePerSecond(cut + 7000)!.Value, precision: 9);
        Assert.Equal(50 * RateProbe.MaxGrowth, probe.RatePerSecond(cut + 1_000_000)!.Value, precision: 9);
    }

    [Fact]
    public void ARefusalOfARequestStartedAtTheLastEvent_IsPartOfIt()
    {
        var probe = new RateProbe(TicksPerSecond);
        for (int i = 0; i < 5; i++)
        {
            probe.Started(0);
        }

        Assert.True(probe.Throttled(admission: 5, startedAt: 0, now: 100));
        Assert.False(probe.Throttled(admission: 6, startedAt: 100, now: 100));   // started as the last event was seen
        Assert.True(probe.Throttled(admission: 7, startedAt: 101, now: 101));
    }

    [Fact]
    public void RefusalsOfRequestsAdmittedBeforeTheFullMoment_DoNotCountAgainstTheNextMeasurement()
    {
        var probe = MeasuredAt(ceiling: 50, out long now);

        // Twenty requests admitted before the full moment are refused after it: the old event, not the new span.
        for (int admission = 980; admission < 1000; admission++)
        {
            Assert.False(probe.Throttled(admission, startedAt: now - 5, now: now + 1));
        }

        // 50 sent in the next second and none of them refused: 50 a second (counting those twenty would say 30).
        Assert.True(probe.Throttled(admission: 1050, startedAt: now + 1000, now: now + 1000));
        Assert.Equal(50, probe.Ceiling!.Value, precision: 9);
    }

    [Theory]
    [InlineData(7, 1012, true)]    // 8 refused, 4 accepted: the least that counts as overwhelmed
    [InlineData(8, 1013, true)]
    [InlineData(6, 1011, false)]   // 7 refused: too few
    [InlineData(7, 1011, false)]   // 3 accepted: too few to measure
    [InlineData(7, 1016, false)]   // 8 refused, 8 accepted: refusals do not outnumber what passed
    public void AShortSpan_MeasuresOnlyWhenOverwhelmed(int earlyRefusals, long lastAdmission, bool measures)
    {
        var probe = MeasuredAt(ceiling: 50, out long now);
        for (int admission = 1001; admission <= 1000 + earlyRefusals; admission++)
        {
            Assert.False(probe.Throttled(admission, startedAt: now, now: now + 1));
        }

        double drew = probe.RatePerSecond(now + 200)!.Value;
        Assert.True(probe.Throttled(lastAdmission, startedAt: now + 200, now: now + 200));

        // Measured: 4 accepted in 0.2 s is 20 a second, and the rate that drew the refusal counts up to 20% over it.
        // Not measured: too soon, so the rate that drew the refusal is cut from, once.
        Assert.Equal(measures ? 24 : drew, probe.Ceiling!.Value, precision: 9);
    }

    [Theory]
    [InlineData(250, true)]
    [InlineData(249, false)]
    public void ASpanMeasuresFromTheMinimumSpan(long span, bool measures)
    {
        var probe = MeasuredAt(ceiling: 50, out long now);
        double drew = probe.RatePerSecond(now + span)!.Value;

        Assert.True(probe.Throttled(admission: 1020, startedAt: now + span, now: now + span));

        // Twenty sent in a quarter second, one refused (at the edge, so what was sent counts): 80 a second.
        Assert.Equal(measures ? 80 : drew, probe.Ceiling!.Value, precision: 9);
    }

    [Theory]
    [InlineData(4000, true)]
    [InlineData(3999, false)]
    public void AFewAccepted_MeasureOnceTheSpanIsLong(long span, bool measures)
    {
        var probe = MeasuredAt(ceiling: 50, out long now);
        double drew = probe.RatePerSecond(now + span)!.Value;

        Assert.True(probe.Throttled(admission: 1003, startedAt: now + span, now: now + span));

        // Three sent in 4 s: 0.75 a second, and the rate in force (near 50) may raise that by 20% at most.
        Assert.Equal(measures ? 0.75 * RateProbe.OvershootAllowance : drew, probe.Ceiling!.Value, precision: 9);
        Assert.True(probe.IsMeasured);
    }

    [Fact]
    public void AtTheEdgeShare_WhatWasAcceptedCounts_NotWhatWasSent()
    {
        var probe = MeasuredAt(ceiling: 50, out long now);
        for (int admission = 1001; admission <= 1006; admission++)
        {
            probe.Throttled(admission, startedAt: now, now: now + 1);
        }

        // Twenty sent over a second, seven refused: exactly 35%, no longer "at the edge", so the 13 accepted count
        // (13 a second, and the rate in force raises it by the 20% allowance).
        Assert.True(probe.Throttled(admission: 1020, startedAt: now + 1000, now: now + 1000));
        Assert.Equal(13 * RateProbe.OvershootAllowance, probe.Ceiling!.Value, precision: 9);
    }

    [Fact]
    public void WhenEverythingWasRefusedOverALongSpan_HalfARequestCounts()
    {
        var probe = MeasuredAt(ceiling: 50, out long now);
        for (int admission = 1001; admission <= 1009; admission++)
        {
            probe.Throttled(admission, startedAt: now, now: now + 1);
        }

        // Ten sent over 5 s, all refused: not zero (the limiter let something through before), half a request in 5 s.
        Assert.True(probe.Throttled(admission: 1010, startedAt: now + 5000, now: now + 5000));
        Assert.Equal(0.1 * RateProbe.OvershootAllowance, probe.Ceiling!.Value, precision: 9);
    }

    /// <summary>A probe whose last cut measured <paramref name="ceiling"/> exactly (above 41), at admission 1000.</summary>
    private static RateProbe MeasuredAt(double ceiling, out long now)
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);
        probe.Started(0);
        Assert.True(probe.Throttled(admission: 2, startedAt: 0, now: 0));
        Assert.True(probe.Throttled(admission: 3, startedAt: 1, now: 1));
        now = 1 + (long)(997 * 1000 / ceiling);
        Assert.True(probe.Throttled(admission: 1000, startedAt: now, now: now));
        Assert.Equal(ceiling, probe.Ceiling!.Value, precision: 6);
        Assert.True(probe.IsMeasured);
        return probe;
    }
}
