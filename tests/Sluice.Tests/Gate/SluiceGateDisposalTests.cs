using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Disposing a gate stops every partition's timer and ends the gate's own metrics.</summary>
public sealed class SluiceGateDisposalTests
{
    [Fact]
    public void Dispose_StopsThePartitionsTimers_SoAWaiterOnRefillIsNotWokenAfterward()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 } }, time);
        var partition = gate.GetPartition("p");
        using var first = partition.Enter(new AdmissionRequest()).Admitted();
        var second = partition.Enter(new AdmissionRequest());
        second.AssertWaiting();

        gate.Dispose();
        time.Advance(TimeSpan.FromSeconds(5));

        // The refill came at 1 s, but the timer that would have admitted the waiter was stopped with the gate.
        second.AssertWaiting();
    }

    [Fact]
    public void Dispose_WithoutAMeterFactory_EndsTheGatesPrivateMeter()
    {
        var gate = SluiceGate.Create(timeProvider: new FakeTimeProvider(GateTestKit.Start));
        using var admitted = new MetricCollector<long>(gate.Metrics.Admitted);
        Assert.True(gate.Metrics.Admitted.Enabled);

        gate.Dispose();

        // A disposed meter's instruments stop publishing: no listener hears them any more.
        Assert.False(gate.Metrics.Admitted.Enabled);
    }
}
