using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The clock a gate is given is the one it runs on, and so the one its dispatchers read.</summary>
public sealed class SluiceGateClockTests
{
    [Fact]
    public void Create_WithAClock_RunsOnThatClock()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = SluiceGate.Create(timeProvider: time);

        Assert.Same(time, gate.Time);
    }
}
