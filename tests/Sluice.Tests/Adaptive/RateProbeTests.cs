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
    public void Throttled_CutsToTheBackoffRatioOfTheAcceptedRate_ThenRecoversAlongTheCurve()
    {
        var probe = new RateProbe(TicksPerSecond);

        // 20 requests a second for five seconds, all accepted, then one 429 for the last.
        for (long t = 100; t < 5100; t += 50)
        {
            probe.Started(t);
        }

        Assert.True(probe.Throttled(startedAt: 5050, now: 5100));

        // Over the measuring window, 20 a second started, less the one refused.
        double window = RateProbe.MeasureWindow.TotalSeconds;
        double accepted = ((20 * window) - 1) / window;
        Assert.Equal(accepted, probe.Ceiling!.Value, precision: 6);
        Assert.Equal(accepted * RateProbe.BackoffRatio, probe.RatePerSecond(5100)!.Value, precision: 6);

        long recovery = (long)(RateProbe.RecoveryTime.TotalSeconds * TicksPerSecond);
        double half = probe.RatePerSecond(5100 + (recovery / 2))!.Value;
        Assert.InRange(half, accepted * RateProbe.BackoffRatio, accepted);
        Assert.Equal(accepted, probe.RatePerSecond(5100 + recovery)!.Value, precision: 6);
        Assert.True(half - (accepted * RateProbe.BackoffRatio) > accepted - half, "the curve climbs fast far below the ceiling and flattens near it");
        Assert.True(probe.RatePerSecond(5100 + (3 * recovery)) > accepted * 1.5, "well past the plateau it probes upward, faster over time");
    }

    [Fact]
    public void Throttled_ForARequestStartedBeforeTheLastCut_DoesNotCutAgain()
    {
        var probe = new RateProbe(TicksPerSecond);
        for (long t = 0; t < 5000; t += 50)
        {
            probe.Started(t);
        }

        Assert.True(probe.Throttled(4950, 5000));
        double rate = probe.RatePerSecond(5000)!.Value;

        Assert.False(probe.Throttled(4990, 5010));
        Assert.Equal(rate, probe.RatePerSecond(5000)!.Value);
    }

    [Fact]
    public void Throttled_WithTooFewAcceptedToMeasure_LeavesTheRateUnknown()
    {
        var probe = new RateProbe(TicksPerSecond);
        probe.Started(0);
        probe.Started(1);
        probe.Started(2);

        Assert.False(probe.Throttled(2, 300));
        Assert.False(probe.HasRate);
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
        Assert.True(run.RefusedShare <= 0.03, $"{run.RefusedShare:P1} of requests refused");
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
        run.For(seconds: 60);
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

        public double Limit { get; set; } = limit;

        public double MaxRate { get; private set; }

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
                    _probe.Started(_now);
                    if (_bucket >= 1)
                    {
                        _bucket--;
                    }
                    else
                    {
                        _refused++;
                        _probe.Throttled(_now, _now + 1);
                    }
                }
            }
        }
    }
}
