using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

public sealed class SluiceGateTests
{
    [Fact]
    public void GetPartition_SameKey_ReturnsSamePartition_WithConfiguredOrDefaultLimits()
    {
        var options = new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 3 } };
        options.Partitions["special"] = new PartitionLimits { MaxConcurrency = 7 };
        using var gate = SluiceGate.Create(options, new FakeTimeProvider());

        Assert.Same(gate.GetPartition("a"), gate.GetPartition("a"));
        Assert.Equal(3, gate.GetPartition("a").ConcurrencyLimit);
        Assert.Equal(7, gate.GetPartition("special").ConcurrencyLimit);
        Assert.Equal(2, gate.Partitions.Count);
    }

    [Fact]
    public void Create_CopiesOptions_SoLaterEditsDoNotLeakIn()
    {
        var limits = new PartitionLimits { MaxConcurrency = 3 };
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = limits }, new FakeTimeProvider());

        limits.MaxConcurrency = 99;

        Assert.Equal(3, gate.GetPartition("a").ConcurrencyLimit);
    }

    [Fact]
    public void Create_WithInvalidLimits_ReportsEveryErrorAtOnce()
    {
        var options = new GateOptions
        {
            DefaultLimits = new PartitionLimits { MaxConcurrency = 0, RequestsPerWindow = -5, Window = TimeSpan.Zero },
        };

        var error = Assert.Throws<OptionsValidationException>(() => SluiceGate.Create(options));

        Assert.Equal(3, error.Failures.Count());
        Assert.Contains(error.Failures, f => f.Contains(nameof(PartitionLimits.MaxConcurrency), StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains(nameof(PartitionLimits.RequestsPerWindow), StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains(nameof(PartitionLimits.Window), StringComparison.Ordinal));
    }

    [Fact]
    public void WaiterInOnePartition_NeverBlocksAnotherPartition()
    {
        var time = new FakeTimeProvider(GateTestKit.Start);
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1, RequestsPerWindow = 1 } }, time);
        var busy = gate.GetPartition("busy");
        busy.Enter(new AdmissionRequest()).Admitted();
        var stuck = busy.Enter(new AdmissionRequest());
        busy.PauseUntil(time.GetUtcNow().AddHours(1));

        var other = gate.GetPartition("other").Enter(new AdmissionRequest());

        stuck.AssertWaiting();
        other.Admitted();
    }

    [Fact]
    public void LimitsSelector_ChoosesLimitsForKeysNotNamed_AndIsValidated()
    {
        var options = new GateOptions
        {
            DefaultLimits = new PartitionLimits { MaxConcurrency = 3 },
            LimitsSelector = key => key.EndsWith("|gpt-4o", StringComparison.Ordinal) ? new PartitionLimits { MaxConcurrency = 9 }
                : key.EndsWith("|broken", StringComparison.Ordinal) ? new PartitionLimits { MaxConcurrency = 0 }
                : null,
        };
        options.Partitions["named|gpt-4o"] = new PartitionLimits { MaxConcurrency = 5 };
        using var gate = SluiceGate.Create(options, new FakeTimeProvider());

        Assert.Equal(9, gate.GetPartition("host|key:ab|gpt-4o").ConcurrencyLimit);
        Assert.Equal(5, gate.GetPartition("named|gpt-4o").ConcurrencyLimit);
        Assert.Equal(3, gate.GetPartition("host|key:ab|other").ConcurrencyLimit);
        Assert.Throws<OptionsValidationException>(() => gate.GetPartition("host|key:ab|broken"));
    }
}
