using Sluice.Gate;
using Sluice.Redis.Gate;
using Sluice.Tests.Gate.Contract;

namespace Sluice.Redis.Tests.Gate;

/// <summary>The gate shared through a real Redis, held to the same contract as the in-process gate.</summary>
[Collection(RedisTests.Name)]
public sealed class RedisGateContractTests(RedisFixture redis) : GateContractTests
{
    protected override SluiceGate CreateGate(GateOptions options, TimeProvider timeProvider) =>
        // 10 s a call: the contract is about admission, and a busy CI box can stall a reply for seconds.
        RedisGate.Create(
            new RedisGateOptions { Configuration = redis.Server.Configuration, KeyPrefix = RedisFixture.NewPrefix(), OperationTimeout = TimeSpan.FromSeconds(10) },
            options,
            timeProvider);

    // The clock's timers fire inside Advance, but the scripts they start answer over the network.
    protected override Task AfterClockStepAsync() => Task.Delay(TimeSpan.FromMilliseconds(1));
}
