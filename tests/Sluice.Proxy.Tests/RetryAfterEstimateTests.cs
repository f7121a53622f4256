
using Sluice.Gate;

namespace Sluice.Proxy.Tests;

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
        var snapshot = Snapshot(tokens: -2_000) with
        {
            Budgets = [new BudgetSnapshot(BudgetDimension.Tokens, 6_000, TimeSpan.FromMinutes(1), -2_000, BudgetSource.Configured)],
        };

        Assert.Equal(TimeSpan.FromSeconds(20), RetryAfterEstimate.For(snapshot, new PartitionLimits { TokensPerWindow = 6_000 }, Now));
    }

    [Fact]
    public void OutputDeficit_LearnedFromHeaders_RefillsAtTheOutputRate()
    {
        // 8,000 output tokens a minute (133⅓ a second), 400 in debt: 3 s. The larger input deficit refills faster.
        var snapshot = Snapshot() with
        {
            Budgets =
            [
                new BudgetSnapshot(BudgetDimension.InputTokens, 40_000, TimeSpan.FromMinutes(1), -1_000, BudgetSource.Headers),
                new BudgetSnapshot(BudgetDimension.OutputTokens, 8_000, TimeSpan.FromMinutes(1), -400, BudgetSource.Headers),
            ],
        };

        Assert.Equal(3, RetryAfterEstimate.ExpectedWait(snapshot, new PartitionLimits(), Now).TotalSeconds, precision: 6);
    }

    [Fact]
    public void ExpectedWait_RoomNow_IsZero() =>
        Assert.Equal(TimeSpan.Zero, RetryAfterEstimate.ExpectedWait(Snapshot(requests: 3), new PartitionLimits { RequestsPerWindow = 60 }, Now));

    [Fact]
    public void NothingToGoBy_OneSecond() =>
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterEstimate.For(Snapshot(), new PartitionLimits(), Now));

    [Fact]
    public void WithTenants_TheQueueAheadIsTheTenantsOwn()
    {
        // 60 a minute: batch has 29 waiting; app and the default tenant have none, so another tenant's backlog is not
        // counted against them (fair queuing serves them beside it).
        var limits = new PartitionLimits { RequestsPerWindow = 60 };
        var snapshot = Snapshot(queued: 29, requests: 0) with
        {
            Tenants = [new TenantSnapshot("batch", 1, 1, 29), new TenantSnapshot("app", 3, 0, 0)],
        };

        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfterEstimate.ExpectedWait(snapshot, limits, Now, "batch"));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterEstimate.ExpectedWait(snapshot, limits, Now, "app"));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterEstimate.ExpectedWait(snapshot, limits, Now, "new-tenant"));
        Assert.Equal(TimeSpan.FromSeconds(1), RetryAfterEstimate.ExpectedWait(snapshot, limits, Now));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfterEstimate.ExpectedWait(snapshot with { Tenants = [] }, limits, Now, "app"));
        Assert.Equal(TimeSpan.FromSeconds(30), RetryAfterEstimate.For(snapshot with { Tenants = [new TenantSnapshot("default", 1, 1, 29)] }, limits, Now));
    }
}
