using Sluice.Efficiency.Measure;
using Sluice.Efficiency.Runners;
using Sluice.Efficiency.Scenarios;
using Sluice.Efficiency.Servers;

namespace Sluice.Efficiency;

/// <summary>
/// One row of the table: a fresh limiter (mock or nginx) with the scenario's budgets, latency, faults and seed (so
/// rows cannot contaminate each other and every row meets the same fault sequence), the batch written to a fresh
/// directory, the budget schedule applied on time, the runner's batch timed, then the limiter's own counts.
/// </summary>
internal static class RowRun
{
    /// <summary>The least time a row may take before it is stopped and its unfinished requests counted lost.</summary>
    public static readonly TimeSpan MinimumCap = TimeSpan.FromSeconds(60);

    public static async Task<RowResult> RunAsync(Scenario scenario, Workload workload, Runner runner, int seed, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        var ideal = IdealTime.For(workload.Count - scenario.FreeRequests, workload.TokenCost, scenario.Budgets, scenario.Latency);
        var cap = Cap(ideal);
        await using var server = await RowServer.StartAsync(scenario, seed, cancellationToken).ConfigureAwait(false);
        string directory = Directory.CreateTempSubdirectory("sluice-efficiency-").FullName;
        try
        {
            // Outside the timing: the file a user already has.
            string batchFile = Path.Combine(directory, "requests.jsonl");
            await workload.WriteBatchFileAsync(batchFile, cancellationToken).ConfigureAwait(false);
            var tally = new ClientTally();
            using var capped = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var scheduleStop = new CancellationTokenSource();
            long started = time.GetTimestamp();
            capped.CancelAfter(cap);
            var schedule = ApplyScheduleAsync(server, scenario, started, time, scheduleStop.Token);
            bool wasCapped = false;
            try
            {
                await runner.RunAsync(new RunContext(server.BaseUrl, scenario, workload, tally, seed, batchFile, directory), capped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (capped.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                wasCapped = true;
            }

            var wall = time.GetElapsedTime(started);
            await scheduleStop.CancelAsync().ConfigureAwait(false);
            await schedule.ConfigureAwait(false);
            var count = server.Count();
            return new RowResult
            {
                Scenario = scenario.Name,
                Runner = runner.DisplayName,
                IsSluice = runner.IsSluice,
                Wall = wall,
                Ideal = ideal,
                Attempts = count.Attempts,
                Throttled = count.Throttled,
                // A runner in another process cannot count on our client: the limiter's count less one per request,
                // which is only known when every request was sent (not when the cap stopped the row).
                Retries = runner.CountsAttemptsOnClient ? tally.Retries
                    : wasCapped ? null
                    : Math.Max(0, count.Attempts - workload.Count),
                Lost = workload.Count - tally.Succeeded,
                Unfinished = workload.Count - tally.Ended,
                LossReasons = tally.LossReasons,
                Violations = count.Violations,
                Capped = wasCapped,
                Targets = runner.IsSluice ? Targets.For(scenario.Kind, runner.KnowsBudget) : null,
            };
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A killed child still closing a file; the temp folder's own cleaning will take it.
            }
        }
    }

    /// <summary>A row may take three times its ideal, and at least a minute.</summary>
    public static TimeSpan Cap(TimeSpan ideal) => TimeSpan.FromTicks(Math.Max(MinimumCap.Ticks, 3 * ideal.Ticks));

    /// <summary>Changes the limiter's budgets at each later step of the schedule, timed from the row's start.</summary>
    private static async Task ApplyScheduleAsync(RowServer server, Scenario scenario, long started, TimeProvider time, CancellationToken cancellationToken)
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

                await server.ApplyAsync(step, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The row ended before the schedule did.
        }
    }
}
