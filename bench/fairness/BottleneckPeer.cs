using System.Globalization;
using System.Text.Json;
using Sluice.Efficiency.Runners;

namespace Sluice.FairBench;

/// <summary>
/// The peer: Bottleneck 2.19.5 (npm, <c>peers/package.json</c>) told the true rate with priorities, in front of the
/// same limiter, same workload — <c>peers/interactive-bottleneck.mjs</c>, a Node process of its own. Installed from the
/// lock file (<c>npm ci</c>) when missing.
/// </summary>
internal static class BottleneckPeer
{
    private static string Peers => Path.Combine(SluiceBinary.RepositoryRoot(), "bench", "fairness", "peers");

    /// <summary>
    /// Runs the peer. <c>capped</c>: Bottleneck's <c>maxConcurrent</c> at rate × latency + 1 (the smallest cap that keeps
    /// the rate, so the backlog stays in its priority queue), else unset (no cap, as bench/efficiency runs it).
    /// </summary>
    public static async Task<InteractiveResult> RunAsync(BenchOptions options, Upstream upstream, double upstreamLatency, bool capped, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.Combine(Peers, "node_modules", "bottleneck")))
        {
            Console.WriteLine("  npm ci in bench/fairness/peers (Bottleneck, pinned)...");
            var install = await ChildProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], standardInput: null, Peers, environment: null, cancellationToken);
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException($"npm ci failed in {Peers}:\n{install.Output}{install.Error}");
            }
        }

        string maxConcurrent = capped
            ? ((int)Math.Ceiling(options.RequestsPerMinute / 60.0 * upstreamLatency / 1000) + 1).ToString(CultureInfo.InvariantCulture)
            : "null";
        Console.WriteLine($"  wait (bottleneck): {upstream.Description}; upstream latency {upstreamLatency:F1} ms; Bottleneck minTime {60_000.0 / options.RequestsPerMinute:F0} ms, maxConcurrent {maxConcurrent}, interactive priority 0, batch 9; backlog {options.Backlog:N0}");
        var outcome = await ChildProcess.RunAsync(
            "node",
            [
                Path.Combine(Peers, "interactive-bottleneck.mjs"),
                upstream.BaseUrl.ToString(),
                options.RequestsPerMinute.ToString(CultureInfo.InvariantCulture),
                options.Backlog.ToString(CultureInfo.InvariantCulture),
                options.Seconds.ToString(CultureInfo.InvariantCulture),
                maxConcurrent,
                string.Join(',', InteractiveRun.Arrivals(options.Seconds).Select(a => a.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture))),
            ],
            standardInput: null,
            Peers,
            environment: null,
            cancellationToken);
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"interactive-bottleneck.mjs exited {outcome.ExitCode}: {outcome.Error}");
        }

        using var summary = JsonDocument.Parse(outcome.Output);
        var root = summary.RootElement;
        var waits = root.GetProperty("interactive_ms").EnumerateArray().Select(e => e.GetDouble() - upstreamLatency).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, cancellationToken);
        return new InteractiveResult(
            upstream.Description,
            $"Bottleneck 2.19.5 told the rate, priorities 0 / 9, maxConcurrent {maxConcurrent} (no proxy)",
            options.RequestsPerMinute,
            options.Seconds,
            root.GetProperty("sent").GetInt32(),
            waits,
            upstreamLatency,
            root.GetProperty("batch_waiting").GetInt64(),
            root.GetProperty("batch_answered").GetInt64(),
            upstream.Count());
    }
}
