using Sluice.Gate;
using Sluice.Redis.Gate;
using Sluice.Tests.Gate.Contract;

namespace Sluice.Redis.Tests.Gate;

/// <summary>The gate shared through a real Redis, held to the same contract as the in-process gate.</summary>
[Collection(RedisTests.Name)]
public sealed class RedisGateContractTests(RedisFixture redis) : GateContractTests
{
    protected override SluiceGate CreateGate(GateOptions options, TimeProvider timeProvider) =>
        RedisGate.Create(new RedisGateOptions { Configuration = redis.Server.Configuration, KeyPrefix = RedisFixture.NewPrefix() }, options, timeProvider);
}
