using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Tests.Dispatch;

public sealed class AttemptContextTests
{
    [Fact]
    public async Task TakeLease_KeepsTheSlotAfterTheJobEnds_UntilTheTakerReleasesIt()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1, TokensPerWindow = 60_000, TokenBurst = 1_000 } }, time);
        using var dispatcher = SluiceDispatcher.Create(gate, random: new Random(1));
        var partition = gate.GetPartition("p");
        GateLease? taken = null;

        var result = await dispatcher.RunAsync(
            new SluiceJob("stream", "p") { EstimatedTokens = 400 },
            (attempt, _) =>
            {
                taken = attempt.TakeLease();
                return ValueTask.FromResult(AttemptOutcome.Success("headers arrived", actualTokens: 5));
            }).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.IsSuccess);
        var snapshot = partition.GetSnapshot();
        Assert.Equal(1, snapshot.InFlight);
        Assert.Equal(600, snapshot.TokensAvailable!.Value, precision: 6); // the dispatcher did not settle a taken lease

        taken!.Settle(100);
        taken.Dispose();
        snapshot = partition.GetSnapshot();
        Assert.Equal(0, snapshot.InFlight);
        Assert.Equal(900, snapshot.TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public async Task WithoutTakeLease_TheDispatcherSettlesAndReleases()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 1_000 } }, time);
        using var dispatcher = SluiceDispatcher.Create(gate, random: new Random(1));

        var result = await dispatcher.RunAsync(
            new SluiceJob("plain", "p") { EstimatedTokens = 400 },
            (_, _) => ValueTask.FromResult(AttemptOutcome.Success("done", actualTokens: 100))).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.IsSuccess);
        var snapshot = gate.GetPartition("p").GetSnapshot();
        Assert.Equal(0, snapshot.InFlight);
        Assert.Equal(900, snapshot.TokensAvailable!.Value, precision: 6);
    }
}
