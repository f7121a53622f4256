using Microsoft.Extensions.Options;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>The gate's table of partitions: one per key, limits that name where they came from, and its disposal.</summary>
public sealed class GatePartitionTableTests
{
    [Fact]
    public void GetPartition_TheSameKeyAgain_IsTheSamePartition_WithItsState()
    {
        var (partition, _, gate) = GateTestKit.Create(new PartitionLimits());
        using var _ = gate;
        using var lease = partition.Enter(new AdmissionRequest()).Admitted();

        var again = gate.GetPartition("p");

        Assert.Same(partition, again);
        Assert.Equal(1, again.GetSnapshot().InFlight);
    }

    [Fact]
    public void Dispose_StopsTheTimersOfItsPartitions()
    {
        // 60 a minute with a burst of one: the second caller waits a second on the partition's timer.
        var time = new TrackingTimeProvider();
        var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { RequestsPerWindow = 60, RequestBurst = 1 } }, time);
        var partition = gate.GetPartition("p");
        using var first = partition.Enter(new AdmissionRequest()).Admitted();
        var second = partition.Enter(new AdmissionRequest());
        Assert.NotNull(time.NextDue);

        gate.Dispose();

        Assert.Null(time.NextDue);
        second.AssertWaiting();
    }

    [Fact]
    public void Create_WithInvalidLimitsForOnePartition_NamesThatPartition()
    {
        var options = new GateOptions();
        options.Partitions["slow"] = new PartitionLimits { MaxConcurrency = 0 };

        var error = Assert.Throws<OptionsValidationException>(() => SluiceGate.Create(options));

        Assert.Equal("Partitions[slow]", error.OptionsName);
    }

    [Fact]
    public void GetPartition_WhenTheSelectorChoosesInvalidLimits_NamesTheSelectorAndTheKey()
    {
        using var gate = SluiceGate.Create(new GateOptions { LimitsSelector = _ => new PartitionLimits { MaxConcurrency = 0 } });

        var error = Assert.Throws<OptionsValidationException>(() => gate.GetPartition("tenant-7"));

        Assert.Equal("LimitsSelector(tenant-7)", error.OptionsName);
    }
}
