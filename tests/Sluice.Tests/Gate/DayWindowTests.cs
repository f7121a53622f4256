using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The per-day sliding log on its own; time is whole seconds and the window 100 s long.</summary>
public sealed class DayWindowTests
{
    private const long Hz = 1;
    private const long Window = 100;

    [Fact]
    public void TimeUntil_WaitsForTheOldestEntriesToLeaveTheWindow()
    {
        var log = new DayWindow(limit: 10, Window);
        log.Spend(4, now: 0);
        log.Spend(4, now: 30);

        Assert.Equal(TimeSpan.Zero, log.TimeUntil(2, now: 50, Hz));
        Assert.Equal(TimeSpan.FromSeconds(50), log.TimeUntil(3, now: 50, Hz));
        Assert.Equal(TimeSpan.FromSeconds(80), log.TimeUntil(7, now: 50, Hz));
    }

    [Fact]
    public void TimeUntil_ACostAboveTheLimit_FitsAnEmptyWindow()
    {
        var log = new DayWindow(limit: 10, Window);
        Assert.Equal(TimeSpan.Zero, log.TimeUntil(50, now: 0, Hz));

        log.Spend(50, now: 0);
        Assert.Equal(-40, log.Available(0), precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(100), log.TimeUntil(1, now: 0, Hz));
        Assert.Equal(10, log.Available(100), precision: 9);
    }

    [Fact]
    public void Expire_ForgetsWhatLeftTheWindow_AtExactlyTheWindowsLength()
    {
        var log = new DayWindow(limit: 10, Window);
        log.Spend(3, now: 0);
        log.Spend(2, now: 10);

        log.Expire(99);
        Assert.Equal(5, log.Used, precision: 9);
        log.Expire(100);
        Assert.Equal(2, log.Used, precision: 9);
        log.Expire(110);
        Assert.Equal(0, log.Used);
    }

    [Fact]
    public void Adjust_CorrectsTheEntryWhereItWasAdmitted_NeverBelowZero_AndNothingOnceItLeft()
    {
        var log = new DayWindow(limit: 10, Window);
        long first = log.Spend(6, now: 0);
        long second = log.Spend(2, now: 50);

        log.Adjust(first, -4);
        Assert.Equal(4, log.Used, precision: 9);
        log.Adjust(second, -5);
        Assert.Equal(2, log.Used, precision: 9);

        // The first entry leaves at 100 with what it was settled to, not what it reserved.
        Assert.Equal(10, log.Available(100), precision: 9);
        log.Adjust(first, 50);
        Assert.Equal(10, log.Available(100), precision: 9);
        log.Adjust(second + 1, 5);
        Assert.Equal(10, log.Available(100), precision: 9);
    }

    [Fact]
    public void Ids_StayValid_AfterTheLogIsCompacted()
    {
        var log = new DayWindow(limit: 1_000, Window);
        for (int i = 0; i < 200; i++)
        {
            log.Spend(1, now: i);
        }

        // 150 entries have left by 250; the log compacts, and a late settlement still finds its entry.
        long late = log.Spend(1, now: 250);
        Assert.Equal(950, log.Available(250), precision: 9);
        log.Adjust(late, 9);
        Assert.Equal(59, log.Used, precision: 9);
        long next = log.Spend(1, now: 251);
        Assert.Equal(late + 1, next);
        log.Adjust(next, 1);
        Assert.Equal(61, log.Used, precision: 9);
    }

    [Fact]
    public void Observe_CapsWhatMayBeSpentUntilTheReset_ThenTheLogAloneDecides()
    {
        var log = new DayWindow(limit: 10, Window);
        log.Observe(remaining: 3, resetAt: 40, now: 0);

        Assert.Equal(3, log.Available(0), precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(40), log.TimeUntil(4, now: 0, Hz));
        log.Spend(2, now: 0);
        Assert.Equal(1, log.Available(0), precision: 9);

        // A higher count before the reset does not raise the cap; a past reset is ignored.
        log.Observe(remaining: 8, resetAt: 40, now: 1);
        log.Observe(remaining: 0, resetAt: 0, now: 1);
        log.Observe(remaining: -1, resetAt: 60, now: 1);
        Assert.Equal(1, log.Available(1), precision: 9);

        Assert.Equal(8, log.Available(40), precision: 9);
    }
}
