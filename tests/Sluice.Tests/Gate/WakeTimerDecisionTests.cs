using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The partition's one timer: an overtaken decision never re-arms it, and once disposed nothing wakes the partition.</summary>
public sealed class WakeTimerDecisionTests
{
    private readonly FakeTimeProvider _time = new(GateTestKit.Start);
    private int _wakes;

    [Fact]
    public void Arm_AnOlderDecisionAppliedLate_DoesNotMoveTheTimer()
    {
        using var timer = new WakeTimer(_time, () => _wakes++);
        timer.Arm(version: 2, TimeSpan.FromSeconds(10));

        timer.Arm(version: 1, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, _wakes);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _wakes);
    }

    [Fact]
    public void Dispose_StopsAnArmedTimer()
    {
        var timer = new WakeTimer(_time, () => _wakes++);
        timer.Arm(version: 1, TimeSpan.FromSeconds(1));

        timer.Dispose();
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(0, _wakes);
    }

    [Fact]
    public void Arm_AfterDispose_NeverWakes_EvenIfTheTimerWasNeverMade()
    {
        var timer = new WakeTimer(_time, () => _wakes++);
        timer.Dispose();

        timer.Arm(version: 1, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(0, _wakes);
    }

    [Fact]
    public void Arm_TheSameDecisionAppliedTwice_ArmsOnlyOnce()
    {
        using var timer = new WakeTimer(_time, () => _wakes++);
        timer.Arm(version: 1, TimeSpan.FromSeconds(10));

        timer.Arm(version: 1, TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(0, _wakes);

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, _wakes);
    }
}
