using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// The provider's count of what is left of a per-day budget (<see cref="DayWindow.Observe"/>): how a new count
/// combines with one in force, when one stops being in force, and how settlements move it.
/// </summary>
public sealed class DayWindowProviderCountTests
{
    private const long Hz = 1;
    private const long Window = 1_000;

    [Fact]
    public void Observe_NothingLeft_StopsEverySpendUntilTheReset()
    {
        var log = new DayWindow(limit: 100, Window);

        log.Observe(remaining: 0, resetAt: 50, now: 0);

        Assert.Equal(0, log.Available(0), precision: 9);
        Assert.Equal(TimeSpan.FromSeconds(50), log.TimeUntil(1, now: 0, Hz));
    }

    [Fact]
    public void Observe_AResetThatIsNow_LowersNothing_EvenWhileAnEarlierCountIsInForce()
    {
        // A count whose window resets now says the provider's budget is whole again: it must not lower the earlier one.
        var log = new DayWindow(limit: 100, Window);
        log.Observe(remaining: 10, resetAt: 100, now: 0);

        log.Observe(remaining: 2, resetAt: 50, now: 50);

        Assert.Equal(10, log.Available(50), precision: 9);
    }

    [Fact]
    public void Observe_AtTheInstantTheEarlierCountEnds_TakesTheNewCountAsItIs()
    {
        // The first count is in force before 50 only; at 50 the new count replaces it rather than being capped by it.
        var log = new DayWindow(limit: 100, Window);
        log.Observe(remaining: 2, resetAt: 50, now: 0);

        log.Observe(remaining: 10, resetAt: 100, now: 50);

        Assert.Equal(10, log.Available(50), precision: 9);
    }

    [Fact]
    public void Adjust_ChargingMore_LowersWhatTheProviderLeft_AndARefundRaisesIt()
    {
        var log = new DayWindow(limit: 100, Window);
        log.Observe(remaining: 10, resetAt: 500, now: 0);
        long id = log.Spend(5, now: 0);

        log.Adjust(id, 3);
        Assert.Equal(2, log.Available(0), precision: 9);

        log.Adjust(id, -6);
        Assert.Equal(8, log.Available(0), precision: 9);
    }
}
