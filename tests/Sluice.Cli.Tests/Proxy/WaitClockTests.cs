using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class WaitClockTests
{
    [Fact]
    public void Waiting_LongerThanMaxWait_Expires()
    {
        var time = new FakeTimeProvider();
        using var clock = new WaitClock(TimeSpan.FromSeconds(10), time);

        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(clock.Expired);
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(clock.Expired);
        Assert.True(clock.Token.IsCancellationRequested);
    }

    [Fact]
    public void TimeWithTheUpstream_DoesNotCount()
    {
        var time = new FakeTimeProvider();
        using var clock = new WaitClock(TimeSpan.FromSeconds(10), time);

        time.Advance(TimeSpan.FromSeconds(6));
        clock.Pause();
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(clock.Expired);

        // Throttled: waiting again, with 4 s left.
        clock.Resume();
        time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.False(clock.Expired);
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(clock.Expired);
    }

    [Fact]
    public void PauseAndResume_AreIdempotent()
    {
        var time = new FakeTimeProvider();
        using var clock = new WaitClock(TimeSpan.FromSeconds(10), time);

        clock.Pause();
        clock.Pause();
        time.Advance(TimeSpan.FromSeconds(30));
        clock.Resume();
        clock.Resume();
        time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.False(clock.Expired);
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(clock.Expired);
    }
}
