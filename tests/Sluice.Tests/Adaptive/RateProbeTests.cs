using Sluice.Adaptive;

namespace Sluice.Tests.Adaptive;

public sealed class RateProbeTests
{
    private const long TicksPerSecond = 1000;

    [Fact]
    public void RatePerSecond_BeforeAny429_IsUnknown()
    {
        var probe = new RateProbe(TicksPerSecond);
        for (long t = 0; t < 5000; t += 10)
        {
            probe.Started(t);
        }

        Assert.False(probe.HasRate);
        Assert.Null(probe.RatePerSecond(5000));
    }

    [Fact]
    public void FirstThrottle_TakesWhatPassedAsALowerBound_CountedOverASecondAtLeast_AndRamps()
    {
        var probe = new RateProbe(TicksPerSecond);

        // A burst of six passes at once, the seventh is refused a millisecond later.
        for (int i = 0; i < 7; i++)
        {
            probe.Started(0);
        }

        Assert.True(probe.Throttled(admission: 7, startedAt: 1, now: 2));

        // Six in 1 ms is no rate (it may be the limiter's burst): they count as passing over a second at least.
        double lowerBound = 6 / RateProbe.FirstSpan.TotalSeconds;
        Assert.True(probe.IsRamping);
        Assert.Equal(lowerBound, probe.RatePerSecond(2)!.Value, precision: 6);
        long doubling = (long)RateProbe.RampDoublingTime.TotalMilliseconds;
        Assert.Equal(2 * lowerBound, probe.RatePerSecond(2 + doubling)!.Value, precision: 6);
    }

    [Fact]
    public void ARefusalWhileRamping_CutsFromTheRampedRate_ThenTheNextOneMeasuresBetweenFullMoments()
    {
        var probe = new RateProbe(TicksPerSecond);
        StartedTimes(probe, 5);
        Assert.True(probe.Throttled(admission: 5, startedAt: 0, now: 1));
        double ramped = probe.RatePerSecond(600)!.Value;

        Assert.True(probe.Throttled(admission: 20, startedAt: 600, now: 600));
        Assert.False(probe.IsRamping);
        Assert.Equal(ramped, probe.Ceiling!.Value, precision: 6);
        Assert.Equal(ramped * RateProbe.BackoffRatio, probe.RatePerSecond(600)!.Value, precision: 6);

        // Requests started before that cut and refused after it are the same event: counted, not cut again.
        for (int admission = 21; admission <= 35; admission++)
        {
            Assert.False(probe.Throttled(admission, startedAt: 600, now: 650));
        }

        // A second later, 40 more were sent and 24 passed (well over the edge): the limit is 24 a second, whatever
        // its burst — the burst was spent at the first full moment.
        Assert.True(probe.Throttled(admission: 60, startedAt: 1600, now: 1601));
        Assert.Equal(24, probe.Ceiling!.Value, precision: 6);
    }

    [Fact]
    public void WhenSluiceHeldItselfBack_TheCountIsALowerBound_AndTheRateRampsFromIt()
    {
        var probe = new RateProbe(TicksPerSecond);
        StartedTimes(probe, 2);
        Assert.True(probe.Throttled(admission: 2, startedAt: 0, now: 0));
        Assert.True(probe.Throttled(admission: 3, startedAt: 10, now: 10));

        // 20 s later the rate in force is far above 2.5 a second; pretend it never bound and Sluice's own concurrency did.
        probe.SelfBound();
        Assert.False(probe.Throttled(admission: 53, startedAt: 20_010, now: 20_010), "a lower bound below the rate in force changes nothing");

        var fresh = new RateProbe(TicksPerSecond);
        StartedTimes(fresh, 2);
        Assert.True(fresh.Throttled(admission: 2, startedAt: 0, now: 0));
        fresh.SelfBound();
        Assert.True(fresh.Throttled(admission: 3, startedAt: 100, now: 100));
        fresh.SelfBound();
        Assert.True(fresh.Throttled(admission: 33, startedAt: 1_100, now: 1_100));
        Assert.True(fresh.IsRamping);
        Assert.Equal(30, fresh.Ceiling!.Value, precision: 6);
    }

    [Fact]
    public void ARefusalAtTheEdge_CountsWhatWasSent_SoJitterAgainstABurstlessLimiterDoesNotReadLow()
    {
        var probe = MeasuredAt(ceiling: 50, out long now);

        // Ten refused around the cut, then 50 sent over the next second and one more refused: at the edge of 50 a
        // second, not over it (the refused ones are sent again, so the accepted count alone would say 39).
        for (int admission = 1001; admission <= 1010; admission++)
        {
            Assert.False(probe.Throttled(admission, startedAt: now, now: now + 1));
        }

        Assert.True(probe.Throttled(admission: 1050, startedAt: now + 1000, now: now + 1001));
        Assert.Equal(50, probe.Ceiling!.Value, precision: 6);
    }

    [Fact]
    public void ACeiling_IsNeverSetBelowTheRateThatDrewTheRefusal_WithinTheOvershootAllowance()
    {
        // Paced below the limit for most of the span, the probe counted less than the limit; the refusal came at the
        // rate in force, which is the better evidence, so the two do not ratchet each other down.
        var probe = MeasuredAt(ceiling: 50, out long now);
        long later = now + (long)(1.5 * RateProbe.RecoveryTime.TotalMilliseconds);
        double drewIt = probe.RatePerSecond(later)!.Value;
        Assert.InRange(drewIt, 50.1, 60);

        Assert.True(probe.Throttled(admission: 1000 + 405, startedAt: later, now: later));
        double measured = 405 / ((later - now) / 1000.0);
        Assert.True(measured < drewIt);
        Assert.Equal(drewIt, probe.Ceiling!.Value, precision: 6);
    }

    [Fact]
    public void ARefusalBeforeAnythingPassed_SetsNoRate()
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);

        Assert.False(probe.Throttled(admission: 1, startedAt: 0, now: 5));
        Assert.False(probe.HasRate);
    }

    [Fact]
    public void Throttled_OverTooShortASpan_WaitsAndMeasuresFromTheEarlierFullMoment()
    {
        var probe = new RateProbe(TicksPerSecond);
        StartedTimes(probe, 3);
        Assert.True(probe.Throttled(admission: 3, startedAt: 0, now: 1));
        Assert.True(probe.Throttled(admission: 4, startedAt: 100, now: 100));
        double ceiling = probe.Ceiling!.Value;

        // 100 ms after the last full moment: too soon to measure, so the rate that drew the refusal is cut, once.
        double drew = probe.RatePerSecond(201)!.Value;
        Assert.True(probe.Throttled(admission: 6, startedAt: 200, now: 201));
        Assert.Equal(drew, probe.Ceiling!.Value, precision: 6);
        Assert.NotEqual(ceiling, drew);
        Assert.False(probe.Throttled(admission: 7, startedAt: 250, now: 251));

        // Measured from the full moment at 100 ms, not from the refusals at 200 or 250 ms: 26 sent in 300 ms.
        Assert.True(probe.Throttled(admission: 30, startedAt: 400, now: 401));
        Assert.Equal(26 / 0.3, probe.Ceiling!.Value, precision: 6);
    }

    private static void StartedTimes(RateProbe probe, int count)
    {
        for (int i = 0; i < count; i++)
        {
            probe.Started(0);
        }
    }

    /// <summary>A probe whose last cut measured <paramref name="ceiling"/> exactly (above 41), at admission 1000.</summary>
    private static RateProbe MeasuredAt(double ceiling, out long now)
    {
        var probe = new RateProbe(TicksPerSecond);
        StartedTimes(probe, 2);
        Assert.True(probe.Throttled(admission: 2, startedAt: 0, now: 0));
        Assert.True(probe.Throttled(admission: 3, startedAt: 1, now: 1));
        now = 1 + (long)(997 * 1000 / ceiling);
        Assert.True(probe.Throttled(admission: 1000, startedAt: now, now: now));
        Assert.Equal(ceiling, probe.Ceiling!.Value, precision: 6);
        return probe;
    }

    [Theory]
    [InlineData(5.0)]
    [InlineData(25.0)]
    [InlineData(200.0)]
    public void AgainstAStableRateLimit_HoldsJustUnderIt(double limit)
    {
        var run = new Simulation(limit);
        run.For(seconds: 60);
        run.ResetCounters();

        run.For(seconds: 600);

        Assert.True(run.AcceptedPerSecond >= 0.9 * limit, $"accepted {run.AcceptedPerSecond:F2}/s against {limit}/s");
        // One refusal per cubic cycle: 3.5% of requests at 5 a second, under 1% from 25 a second up.
        Assert.True(run.RefusedShare <= (limit < 10 ? 0.04 : 0.01), $"{run.RefusedShare:P1} of requests refused");
        Assert.True(run.MaxRate <= 1.35 * limit, $"the rate drifted to {run.MaxRate:F2}/s above a stable {limit}/s");
    }

    [Fact]
    public void WhenTheLimitHalvesThenDoubles_FollowsIt()
    {
        var run = new Simulation(limit: 40);
        run.For(seconds: 120);

        run.Limit = 20;
        run.ResetCounters();
        run.For(seconds: 30);
        Assert.True(run.RefusedShare <= 0.1, $"{run.RefusedShare:P1} refused on the way down");
        run.ResetCounters();
        run.For(seconds: 60);
        Assert.InRange(run.AcceptedPerSecond, 0.85 * 20, 20.5);

        run.Limit = 40;
        int seconds = 0;
        while (run.Rate < 0.8 * 40 && seconds < 60)
        {
            run.For(seconds: 1);
            seconds++;
        }

        Assert.True(seconds <= 12, $"{seconds} s after the limit doubled to 40/s, pacing at only {run.Rate:F1}/s");
        run.For(seconds: 60 - seconds);
        run.ResetCounters();
        run.For(seconds: 60);
        Assert.True(run.AcceptedPerSecond >= 0.85 * 40, $"accepted {run.AcceptedPerSecond:F2}/s after the limit doubled to 40/s");
    }

    /// <summary>
    /// A client paced by the probe (three times the limit while it knows nothing) against a token-bucket rate limit
    /// with one second of burst, in 10 ms steps; a refused request reports at once.
    /// </summary>
    private sealed class Simulation(double limit)
    {
        private readonly RateProbe _probe = new(TicksPerSecond);
        private double _bucket = limit;
        private double _due;
        private long _now;
        private long _sent;
        private long _refused;
        private long _from;
        private long _admissions;

        public double Limit { get; set; } = limit;

        public double MaxRate { get; private set; }

        public double Rate => _probe.RatePerSecond(_now) ?? double.PositiveInfinity;

        public double AcceptedPerSecond => (_sent - _refused) / ((_now - _from) / (double)TicksPerSecond);

        public double RefusedShare => _sent == 0 ? 0 : _refused / (double)_sent;

        public void ResetCounters()
        {
            _sent = _refused = 0;
            _from = _now;
            MaxRate = 0;
        }

        public void For(int seconds)
        {
            long end = _now + (seconds * TicksPerSecond);
            for (; _now < end; _now += 10)
            {
                _bucket = Math.Min(Limit, _bucket + (Limit * 0.01));
                double rate = _probe.RatePerSecond(_now) ?? 3 * Limit;
                MaxRate = Math.Max(MaxRate, rate);
                for (_due += rate * 0.01; _due >= 1; _due--)
                {
                    _sent++;
                    _admissions++;
                    _probe.Started(_now);
                    if (_bucket >= 1)
                    {
                        _bucket--;
                    }
                    else
                    {
                        _refused++;
                        _probe.Throttled(_admissions, _now, _now + 1);
                    }
                }
            }
        }
    }
}
