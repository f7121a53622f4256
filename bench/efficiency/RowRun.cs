using Sluice.Efficiency.Measure;
using Sluice.Efficiency.Runners;
using Sluice.Efficiency.Scenarios;
using Sluice.Mock;

namespace Sluice.Efficiency;

/// <summary>
/// One row of the table: a fresh mock with the scenario's budgets, latency, faults and seed (so rows cannot
/// contaminate each other and every row meets the same fault sequence), the budget schedule applied on time, the
/// runner's batch, then the mock's statistics.
/// </summary>
internal static class RowRun
{
    /// <summary>The least time a row may take before it is stopped and its unfinished requests counted lost.</summary>
    public static readonly TimeSpan MinimumCap = TimeSpan.FromSeconds(60);

    public static async Task<RowResult> RunAsync(Scenario scenario, Workload workload, Runner runner, int seed, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var ideal = IdealTime.For(workload.Count, workload.TokenCost, scenario.Budgets, scenario.Latency);
        var cap = Cap(ideal);
        await using var mock = await MockServer.StartAsync(
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

        var tally = new ClientTally();
        using var capped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var scheduleStop = new CancellationTokenSource();
        long started = time.GetTimestamp();
        capped.CancelAfter(cap);
        var schedule = ApplyScheduleAsync(mock, scenario, started, time, scheduleStop.Token);
        bool wasCapped = false;
        try
        {
            await runner.RunAsync(new RunContext(mock.BaseUrl, scenario, workload, tally, seed), capped.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (capped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            wasCapped = true;
        }

        var wall = time.GetElapsedTime(started);
        await scheduleStop.CancelAsync().ConfigureAwait(false);
        await schedule.ConfigureAwait(false);
        var stats = mock.GetStats();
        return new RowResult
        {
            Scenario = scenario.Name,
            Runner = runner.DisplayName,
            Wall = wall,
            Ideal = ideal,
            Attempts = stats.Received,
            Throttled = stats.Rejected.Where(r => r.Key.StartsWith("rate_limit_", StringComparison.Ordinal) || r.Key == "concurrency").Sum(r => r.Value),
            Retries = tally.Retries,
            Lost = workload.Count - tally.Succeeded,
            Unfinished = workload.Count - tally.Ended,
            LossReasons = tally.LossReasons,
            Violations = stats.BudgetViolations.Total,
            Capped = wasCapped,
            Targets = runner.IsSluice ? Targets.For(runner.KnowsBudget, scenario.RateLimitHeaders) : null,
        };
    }

    /// <summary>A row may take three times its ideal, and at least a minute.</summary>
    public static TimeSpan Cap(TimeSpan ideal) => TimeSpan.FromTicks(Math.Max(MinimumCap.Ticks, 3 * ideal.Ticks));

    /// <summary>Changes the mock's budgets at each later step of the schedule, timed from the row's start.</summary>
    private static async Task ApplyScheduleAsync(MockServer mock, Scenario scenario, long started, TimeProvider time, CancellationToken cancellationToken)
    {
        try
        {
            foreach (var step in scenario.Budgets.Skip(1))
            {
                var wait = step.At - time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                }

                mock.SetLimits(Limits(mock.Limits, step));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The row ended before the schedule did.
        }
    }

    private static MockLimits Limits(MockLimits current, BudgetStep step) =>
        current with { RequestsPerMinute = step.RequestsPerMinute, TokensPerMinute = step.TokensPerMinute };
}
