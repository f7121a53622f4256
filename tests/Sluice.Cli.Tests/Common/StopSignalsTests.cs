using Sluice.Cli.Common;

namespace Sluice.Cli.Tests.Common;

/// <summary>The stop protocol all three commands share: the first signal stops gracefully, the second at once.</summary>
public sealed class StopSignalsTests
{
    [Fact]
    public void FirstSignal_AsksToStopGracefully_NotAtOnce()
    {
        using var signals = StopSignals.Ignore();

        signals.Raise();

        Assert.True(signals.Stopping.IsCancellationRequested);
        Assert.False(signals.Aborting.IsCancellationRequested);
        Assert.Equal(1, signals.Received);
    }

    [Fact]
    public void SecondSignal_AsksToStopAtOnce_AndEveryLaterOneIsHarmless()
    {
        using var signals = StopSignals.Ignore();

        signals.Raise();
        signals.Raise();
        signals.Raise();

        Assert.True(signals.Stopping.IsCancellationRequested);
        Assert.True(signals.Aborting.IsCancellationRequested);
        Assert.Equal(3, signals.Received);
    }

    [Fact]
    public void NoSignal_LeavesBothTokensUncancelled()
    {
        using var signals = StopSignals.Listen();

        Assert.False(signals.Stopping.IsCancellationRequested);
        Assert.False(signals.Aborting.IsCancellationRequested);
        Assert.Equal(0, signals.Received);
    }

    [Fact]
    public void Stopping_RunsTheDrainOnce_WhenTheSecondSignalAborts()
    {
        using var signals = StopSignals.Ignore();
        int drains = 0;
        using var registration = signals.Stopping.Register(() => drains++);

        signals.Raise();
        signals.Raise();

        Assert.Equal(1, drains);
    }
}
