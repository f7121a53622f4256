using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Tests.Dispatch;

public sealed class AttemptTimeoutTests
{
    [Fact]
    public async Task AnAttemptThatIgnoresItsToken_IsAbandonedAtTheTimeout_AndItsSlotFreed()
    {
        var time = new FakeTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1 } }, time);
        using var dispatcher = SluiceDispatcher.Create(
            gate,
            new DispatcherOptions { AttemptTimeout = TimeSpan.FromSeconds(5), MaxAttempts = 1 },
            random: new Random(1));
        var never = new TaskCompletionSource<AttemptOutcome<string>>();
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("deaf", "p"), (_, _) =>
        {
            Interlocked.Increment(ref calls);
            return new ValueTask<AttemptOutcome<string>>(never.Task);   // never looks at its token
        }).AsTask();
        while (Volatile.Read(ref calls) == 0)
        {
            await Task.Yield();
        }

        time.Advance(TimeSpan.FromSeconds(5));
        var result = await job.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((JobStatus.Failed, JobEndReason.AttemptsExhausted), (result.Status, result.Reason));
        Assert.Contains("timed out", result.Error);
        Assert.Equal(0, gate.GetPartition("p").GetSnapshot().InFlight);
    }

    [Fact]
    public async Task ANegativeActualTokenCount_IsIgnored_NotAnException()
    {
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { TokensPerWindow = 60_000, TokenBurst = 1_000 } }, new FakeTimeProvider());
        using var dispatcher = SluiceDispatcher.Create(gate, random: new Random(1));

        var result = await dispatcher.RunAsync(
            new SluiceJob("odd", "p") { EstimatedTokens = 100 },
            (_, _) => ValueTask.FromResult(AttemptOutcome.Success("ok", actualTokens: -5))).AsTask().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.IsSuccess);
        Assert.Equal(900, gate.GetPartition("p").GetSnapshot().TokensAvailable!.Value, precision: 6);
    }
}
