using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// The per-day log's floating-point forgiveness: a billionth over a limit or a count still fits, and an emptied window
/// holds exactly nothing whatever rounding its amounts left behind.
/// </summary>
public sealed class DayWindowEpsilonTests
{
    private const long Hz = 1;
    private const long Window = 100;

    [Fact]
    public void TimeUntil_ACostABillionthOverWhatTheWindowHasLeft_FitsNow()
    {
        var log = new DayWindow(limit: 10, Window);
        log.Spend(10, now: 0);

        Assert.Equal(TimeSpan.Zero, log.TimeUntil(1e-9, now: 1, Hz));
    }

    [Fact]
    public void TimeUntil_ACostABillionthOverTheProvidersCount_FitsNow()
    {
        var log = new DayWindow(limit: 10, Window);
        log.Observe(remaining: 0, resetAt: 50, now: 0);

        Assert.Equal(TimeSpan.Zero, log.TimeUntil(1e-9, now: 0, Hz));
    }

    [Fact]
    public void Expire_AnEmptiedWindow_HoldsExactlyNothing()
    {
        // 0.1 + 0.2 is not 0.3 in binary: taking them back out one at a time leaves a residue, which must not survive.
        var log = new DayWindow(limit: 10, Window);
        log.Spend(0.1, now: 0);
        log.Spend(0.2, now: 0);

        log.Expire(Window);

        Assert.Equal(0.0, log.Used);
        Assert.Equal(10.0, log.Available(Window));
    }
}
