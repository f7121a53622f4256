using Sluice.Cli.Proxy;
using Sluice.Gate;

namespace Sluice.Tests.Proxy;

public sealed class RetryAfterEstimateTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static PartitionSnapshot Snapshot(int queued = 0, double? requests = null, double? tokens = null, DateTimeOffset? pausedUntil = null) =>
        new("p", InFlight: 1, Queued: queued, ConcurrencyLimit: 8, requests, tokens, pausedUntil, StopReason: null);

    [Fact]
    public void Paused_WaitsForThePauseToEnd() =>
        Assert.Equal(TimeSpan.FromSeconds(42), RetryAfterEstimate.For(Snapshot(pausedUntil: Now.AddSeconds(42)), new PartitionLimits(), Now));

    [Fact]
    public void QueueAhead_DrainsAtTheRequestRate()
    {
        // 60 a minute is one a second: 29 ahead plus this one, with none available now, is 30 s.
        var limits = new PartitionLimits { RequestsPerWindow = 60 };

        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfterEstimate.For(Snapshot(queued: 29, requests: 0), limits, Now));
    }

    [Fact]
    public void TokenDeficit_RefillsAtTheTokenRate()
    {
        var limits = new PartitionLimits { TokensPerWindow = 6_000 };

        Assert.Equal(TimeSpan.FromSeconds(20), RetryAfterEstimate.For(Snapshot(tokens: -2_000), limits, Now));
    }

    [Fact]
    public void ExpectedWait_RoomNow_IsZero() =>
        Assert.Equal(TimeSpan.Zero, RetryAfterEstimate.ExpectedWait(Snapshot(requests: 3), new PartitionLimits { RequestsPerWindow = 60 }, Now));

    [Fact]
    public void NothingToGoBy_OneSecond() =>
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterEstimate.For(Snapshot(), new PartitionLimits(), Now));
}
