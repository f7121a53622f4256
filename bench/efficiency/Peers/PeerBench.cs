using System.Globalization;
using Sluice.Efficiency.Measure;
using Sluice.Efficiency.Runners;
using Sluice.Efficiency.Scenarios;
using Sluice.Mock;
using Sluice.Tests.Support;

namespace Sluice.Efficiency.Peers;

/// <summary>
/// Several real <c>sluice run</c> processes on ONE API key against ONE <c>sluice mock</c> (in this process) with a known
/// budget: each process runs its own slice of one batch (every N-th line), all started at once. Uncoordinated
/// (<c>none</c>), each process learns from the mock's <c>x-ratelimit-*</c> headers and 429s alone; through Redis
/// (<c>redis</c>), each is given <c>--redis</c> on a redis-server started here. The mock counts attempts and 429s and
/// audits its budgets; the results files say whether every request ended once, well.
/// </summary>
internal static class PeerBench
{
    /// <summary>The variable every process reads the key from: the same key, so one partition at the mock and in Sluice.</summary>
    private const string KeyVariable = "SLUICE_BENCH_API_KEY";

    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan LatencyJitter = TimeSpan.FromMilliseconds(200);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var (options, error) = PeerOptions.Parse(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync($"error: {error}\n\n{PeerOptions.Usage}").ConfigureAwait(false);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(PeerOptions.Usage);
            return 0;
        }

        string cli = options.Cli ?? await BuildAsync(cancellationToken).ConfigureAwait(false);
        bool redisReady = await SupportsRedisAsync(cli, cancellationToken).ConfigureAwait(false);
        var rows = new List<PeerRow>();
        foreach (string mode in options.Modes)
        {
            if (mode == "redis" && !redisReady)
            {
                Console.WriteLine($"redis: skipped, {cli} has no `run --redis` yet (branch redis-batch)");
                continue;
            }

            foreach (int processes in options.Processes)
            {
                var row = await RunRowAsync(options, cli, mode, processes, cancellationToken).ConfigureAwait(false);
                Console.WriteLine(row);
                rows.Add(row);
            }
        }

        Console.WriteLine();
        Console.Write(PeerRow.Markdown(rows));
        if (options.MarkdownFile is { } file)
        {
            string header = string.Create(
                CultureInfo.InvariantCulture,
                $"<!-- bench/efficiency peers, seed {options.Seed}, {options.Requests} requests, {options.RequestsPerMinute} rpm, {options.TokensPerMinute} tpm, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores -->\n");
            await File.WriteAllTextAsync(file, header + PeerRow.Markdown(rows), cancellationToken).ConfigureAwait(false);
        }

        return rows.Any(r => r.MissesTargets) ? 1 : 0;
    }

    private static async Task<string> BuildAsync(CancellationToken cancellationToken)
    {
        await SluiceCli.BuildAsync(cancellationToken).ConfigureAwait(false);
        return SluiceCli.Assembly;
    }

    private static async Task<bool> SupportsRedisAsync(string cli, CancellationToken cancellationToken)
    {
        var help = await ChildProcess.RunAsync("dotnet", [cli, "run", "--help"], null, null, cancellationToken).ConfigureAwait(false);
        return (help.Output + help.Error).Contains("--redis", StringComparison.Ordinal);
    }

    private static async Task<PeerRow> RunRowAsync(PeerOptions options, string cli, string mode, int processes, CancellationToken cancellationToken)
    {
        var scenario = new Scenario
        {
            Name = "peers",
            Description = "N processes on one key",
            Kind = ScenarioKind.MockWithHeaders,
            Requests = options.Requests,
            Budgets = [new BudgetStep(TimeSpan.Zero, options.RequestsPerMinute, options.TokensPerMinute)],
            Latency = Latency,
            LatencyJitter = LatencyJitter,
        };
        var workload = Workload.Create(scenario, options.Seed);
        var ideal = IdealTime.For(workload.Count, workload.TokenCost, scenario.Budgets, Latency);
        var directory = Directory.CreateTempSubdirectory("sluice-peers-");
        await using var mock = await MockServer.StartAsync(
            new MockOptions
            {
                Port = 0,
                Limits = new MockLimits { RequestsPerMinute = options.RequestsPerMinute, TokensPerMinute = options.TokensPerMinute },
                Latency = Latency,
                LatencyJitter = LatencyJitter,
                Seed = options.Seed,
            },
            cancellationToken).ConfigureAwait(false);
        await using var redis = mode == "redis" ? await RedisServer.StartAsync(cancellationToken: cancellationToken).ConfigureAwait(false) : null;
        try
        {
            string batch = Path.Combine(directory.FullName, "batch.jsonl");
            await workload.WriteBatchFileAsync(batch, cancellationToken).ConfigureAwait(false);
            var lines = await File.ReadAllLinesAsync(batch, cancellationToken).ConfigureAwait(false);
            var slices = new List<(string Batch, string Results, int Count)>();
            for (int i = 0; i < processes; i++)
            {
                var slice = lines.Where((_, index) => index % processes == i).ToList();
                string sliceFile = Path.Combine(directory.FullName, $"slice-{i}.jsonl");
                await File.WriteAllLinesAsync(sliceFile, slice, cancellationToken).ConfigureAwait(false);
                slices.Add((sliceFile, Path.Combine(directory.FullName, $"results-{i}.jsonl"), slice.Count));
            }

            // A cap well past any sane run: a row that never finishes is stopped, its processes killed, and reported.
            using var cap = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cap.CancelAfter(ideal * 5 + TimeSpan.FromMinutes(1));
            var time = TimeProvider.System;
            long started = time.GetTimestamp();
            long firstArrival = 0;
            using var watching = CancellationTokenSource.CreateLinkedTokenSource(cap.Token);
            var watcher = Task.Run(
                async () =>
                {
                    while (!watching.IsCancellationRequested && mock.GetStats().Received == 0)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(5), time, watching.Token).ConfigureAwait(false);
                    }

                    Interlocked.CompareExchange(ref firstArrival, time.GetTimestamp(), 0);
                    (long received, long refused) last = (0, 0);
                    for (int second = 0; options.Trace && !watching.IsCancellationRequested; second++)
                    {
                        // With --trace, what the mock saw each second: attempts and 429s.
                        await Task.Delay(TimeSpan.FromSeconds(1), time, watching.Token).ConfigureAwait(false);
                        var now = mock.GetStats();
                        long refused = now.Rejected.Where(r => r.Key.StartsWith("rate_limit_", StringComparison.Ordinal)).Sum(r => r.Value);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    t={second,3} s  attempts {now.Received - last.received,4}  429s {refused - last.refused,4}"));
                        last = (now.Received, refused);
                    }
                },
                watching.Token);
            var runs = slices.Select(slice => RunProcessAsync(cli, slice.Batch, slice.Results, mock.BaseUrl, options, redis?.Configuration, directory.FullName, cap.Token)).ToList();
            var outcomes = await Task.WhenAll(runs).ConfigureAwait(false);
            long ended = time.GetTimestamp();
            await watching.CancelAsync().ConfigureAwait(false);
            try
            {
                await watcher.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            foreach (var outcome in outcomes.Where(o => o.ExitCode != 0))
            {
                await Console.Error.WriteLineAsync($"    a process exited {outcome.ExitCode}: {outcome.Error.Trim()}").ConfigureAwait(false);
            }

            var tally = new ClientTally();
            foreach (var slice in slices)
            {
                await ResultsFile.CountAsync(slice.Results, slice.Count, tally, "no results line", cancellationToken).ConfigureAwait(false);
            }

            var stats = mock.GetStats();
            long arrival = Interlocked.Read(ref firstArrival);
            return new PeerRow
            {
                Mode = mode,
                Processes = processes,
                Told = options.Told,
                Requests = workload.Count,
                Attempts = stats.Received,
                Throttled = stats.Rejected.Where(r => r.Key.StartsWith("rate_limit_", StringComparison.Ordinal) || r.Key == "concurrency").Sum(r => r.Value),
                Violations = stats.BudgetViolations.Total,
                Lost = workload.Count - tally.Succeeded,
                Wall = time.GetElapsedTime(started, ended),
                Sending = time.GetElapsedTime(arrival == 0 ? started : arrival, ended),
                Ideal = ideal,
                FailedProcesses = outcomes.Count(o => o.ExitCode != 0),
            };
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static Task<ChildProcess.Outcome> RunProcessAsync(
        string cli, string batch, string results, Uri baseUrl, PeerOptions options, string? redis, string directory, CancellationToken cancellationToken)
    {
        var arguments = new List<string> { cli, "run", batch, "-o", results, "--base-url", baseUrl.ToString(), "--api-key-env", KeyVariable };
        if (options.Told)
        {
            arguments.AddRange(["--rpm", options.RequestsPerMinute.ToString(CultureInfo.InvariantCulture), "--tpm", options.TokensPerMinute.ToString(CultureInfo.InvariantCulture)]);
        }

        if (redis is not null)
        {
            arguments.AddRange(["--redis", redis]);
        }

        return ChildProcess.RunAsync(
            "dotnet",
            arguments,
            directory,
            new Dictionary<string, string> { [KeyVariable] = "sk-bench-one-shared-key", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
            cancellationToken);
    }
}
