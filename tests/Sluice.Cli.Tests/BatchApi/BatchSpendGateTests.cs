using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.BatchApi;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchSpendGateTests
{
    [Fact]
    public void APartWhoseWorstCaseWouldPassTheCap_IsNotSubmitted_NorAnyLaterOne()
    {
        // $1.00 cap, $0.20 spent by earlier runs: $0.80 of room.
        var gate = new BatchSpendGate(1.00m, 0.20m, new FakeTimeProvider());

        Assert.True(gate.TryReserve(1, 0.50m));
        Assert.False(gate.TryReserve(2, 0.40m));
        // A smaller later part does not jump the queue: submission stopped at the first part refused.
        Assert.False(gate.TryReserve(3, 0.01m));

        var stop = gate.StoppedAt!.Value;
        Assert.Equal(0.50m, stop.Reserved);
        Assert.Equal(0m, stop.Settled);
        Assert.Equal(0.80m, stop.Limit);
        Assert.Contains("the spend cap $1.00 is reached", gate.StopReason(7), StringComparison.Ordinal);
        Assert.Contains("7 lines left", gate.StopReason(7), StringComparison.Ordinal);
    }

    [Fact]
    public void APartSettledBelowItsWorstCase_LeavesRoomForTheNext()
    {
        var gate = new BatchSpendGate(1.00m, 0m, new FakeTimeProvider());

        Assert.True(gate.TryReserve(1, 0.60m));
        Assert.Null(gate.StoppedAt);
        gate.Settle(1, 0.30m);
        Assert.True(gate.TryReserve(2, 0.60m));
        Assert.False(gate.TryReserve(3, 0.20m));
        Assert.Equal(0.30m, gate.StoppedAt!.Value.Settled);
        Assert.Equal(0.60m, gate.StoppedAt!.Value.Reserved);
    }

    [Fact]
    public void AWorstCaseNotKnown_IsRefused()
    {
        var gate = new BatchSpendGate(100m, 0m, new FakeTimeProvider());

        Assert.False(gate.TryReserve(1, null));
        Assert.NotNull(gate.StoppedAt);
    }
}
