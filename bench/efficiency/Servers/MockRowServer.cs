using Sluice.Efficiency.Scenarios;
using Sluice.Mock;

namespace Sluice.Efficiency.Servers;

/// <summary><c>sluice mock</c> in-process with the scenario's budgets, latency, faults and the run's seed.</summary>
internal sealed class MockRowServer : RowServer
{
    private readonly MockServer _mock;

    private MockRowServer(MockServer mock) => _mock = mock;

    public override Uri BaseUrl => _mock.BaseUrl;

    public static new async Task<RowServer> StartAsync(Scenario scenario, int seed, CancellationToken cancellationToken)
    {
        var mock = await MockServer.StartAsync(
            new MockOptions
            {
                Port = 0,
                Limits = Limits(new MockLimits(), scenario.InitialBudget),
                Faults = scenario.Faults(),
                RateLimitHeaders = scenario.RateLimitHeaders,
                Latency = scenario.Latency,
                LatencyJitter = scenario.LatencyJitter,
                Seed = seed,
            },
            cancellationToken).ConfigureAwait(false);
        return new MockRowServer(mock);
    }

    public override Task ApplyAsync(BudgetStep step, CancellationToken cancellationToken)
    {
        _mock.SetLimits(Limits(_mock.Limits, step));
        return Task.CompletedTask;
    }

    public override ServerCount Count()
    {
        var stats = _mock.GetStats();
        return new ServerCount(
            stats.Received,
            stats.Rejected.Where(r => r.Key.StartsWith("rate_limit_", StringComparison.Ordinal) || r.Key == "concurrency").Sum(r => r.Value),
            stats.BudgetViolations.Total);
    }

    public override ValueTask DisposeAsync() => _mock.DisposeAsync();

    private static MockLimits Limits(MockLimits current, BudgetStep step) =>
        current with { RequestsPerMinute = step.RequestsPerMinute, TokensPerMinute = step.TokensPerMinute };
}
