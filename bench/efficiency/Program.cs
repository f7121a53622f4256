// Budget efficiency (issue 8, part 1; issue 12, part 7): each scenario starts a limiter — `sluice mock` in-process, or
// a real nginx limit_req as a child process — with a known budget, latency and faults, runs the same batch through
// Sluice (in-process handler, and the whole `sluice run` command) and through its peers, and prints one table.
// See docs/benchmarks.md.
using System.Globalization;
using System.Runtime.InteropServices;
using Sluice.Efficiency;
using Sluice.Efficiency.Measure;
using Sluice.Efficiency.Peers;
using Sluice.Efficiency.Runners;
using Sluice.Efficiency.Scenarios;

if (args.Length > 0 && args[0] == "peers")
{
    // Several `sluice run` processes on one key (issue 15): a table of its own, see Peers/PeerBench.cs.
    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        stop.Cancel();
    };
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        stop.Cancel();
    });
    return await PeerBench.RunAsync(args[1..], stop.Token);
}

var (line, error) = CommandLine.Parse(args);
if (line is null)
{
    await Console.Error.WriteLineAsync($"error: {error}\n\n{CommandLine.Usage}");
    return 2;
}

if (line.Help)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

Runner[] allRunners =
[
    new SluiceWithBudgetRunner(),
    new SluiceWithoutBudgetRunner(),
    new SluiceCommandRunner(told: true),
    new SluiceCommandRunner(told: false),
    new BottleneckRunner(),
    new ParallelResilienceRunner(line.Parallelism),
    new BlogAlgorithmRunner(),
];

if (line.List)
{
    foreach (var scenario in ScenarioCatalog.All)
    {
        Console.WriteLine($"{scenario.Name,-20} {scenario.Description}");
    }

    Console.WriteLine();
    foreach (var runner in allRunners)
    {
        Console.WriteLine($"{runner.Key,-20} {runner.DisplayName}");
    }

    return 0;
}

var unknown = line.Scenarios.Where(name => ScenarioCatalog.All.All(s => s.Name != name))
    .Concat(line.Runners.Where(name => allRunners.All(r => r.Key != name)))
    .ToList();
if (unknown.Count > 0)
{
    await Console.Error.WriteLineAsync($"error: unknown scenario or runner: {string.Join(", ", unknown)} (--list shows them)");
    return 2;
}

var scenarios = ScenarioCatalog.All.Where(s => line.Scenarios.Count == 0 || line.Scenarios.Contains(s.Name)).ToList();
var runners = allRunners.Where(r => line.Runners.Count == 0 || line.Runners.Contains(r.Key)).ToList();

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};
// `kill` (SIGTERM) unwinds like Ctrl-C, so nginx and any child process are stopped on the way out.
using var terminated = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});

string machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
Console.WriteLine($"Budget efficiency: {scenarios.Count} scenarios × {runners.Count} runners, seed {line.Seed}; {machine}");
var results = new List<RowResult>();
var rows = new List<RowResult>();
bool failed = false;
try
{
    foreach (var runner in runners)
    {
        await runner.PrepareAsync(interrupted.Token);
    }

    // In-process rows get their JIT and tokenizer warm here; for the rows in a process of their own it only warms
    // the disk cache — each of their rows still starts a new process, and that start is timed.
    Console.WriteLine("warming up every row on a small unmeasured batch (JIT, Sluice's tokenizer)...");
    var warmUp = Workload.Create(ScenarioCatalog.WarmUp, line.Seed);
    foreach (var runner in runners)
    {
        await RowRun.RunAsync(ScenarioCatalog.WarmUp, warmUp, runner, line.Seed, interrupted.Token);
    }

    foreach (var scenario in scenarios)
    {
        var workload = Workload.Create(scenario, line.Seed);
        Console.WriteLine($"{scenario.Name}: {scenario.Description}");
        rows.Clear();
        foreach (var runner in runners)
        {
            var row = await RowRun.RunAsync(scenario, workload, runner, line.Seed, interrupted.Token);
            rows.Add(row);
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {runner.DisplayName,-48} {row.Wall.TotalSeconds,6:F1} s  efficiency {(row.Finished ? row.Efficiency.ToString("F3", CultureInfo.InvariantCulture) : "—")}  lost {row.Lost}  429s {row.Throttled}{(row.Capped ? "  (time cap)" : "")}"));
            if (row.Lost > 0)
            {
                var reasons = row.LossReasons.Select(r => $"{r.Key} {r.Value}")
                    .Concat(row.Unfinished > 0 ? [$"unfinished at the cap {row.Unfinished}"] : []);
                Console.WriteLine($"    lost: {string.Join(", ", reasons)}");
            }
        }

        // Sluice is never to be slower than the best peer that finished the same batch.
        double? bestPeer = rows.Where(r => !r.IsSluice && r.Finished).Select(r => (double?)r.Efficiency).Max();
        results.AddRange(rows.Select(r => r.IsSluice ? r with { BestPeerEfficiency = bestPeer } : r));
        rows.Clear();
    }
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.WriteLine("interrupted: the table has the rows that finished");
    results.AddRange(rows);
}
catch (Exception exception) when (exception is InvalidOperationException or IOException or TimeoutException)
{
    // A limiter or a peer that would not start (nginx missing, npm failing): say so, keep what was measured.
    await Console.Error.WriteLineAsync($"error: {exception.Message}");
    results.AddRange(rows);
    failed = true;
}

Console.WriteLine();
Console.Write(ResultTable.Text(results));
Console.WriteLine("✗ = misses an issue 12 target (Sluice rows: efficiency, 429 share, lost, below the best peer; every row: the mock's violations).");

if (line.MarkdownFile is { } file)
{
    string header = string.Create(
        CultureInfo.InvariantCulture,
        $"<!-- bench/efficiency, seed {line.Seed}, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {machine} -->\n");
    await File.WriteAllTextAsync(file, header + ResultTable.Markdown(results));
    Console.WriteLine($"Markdown written to {file}");
}

return results.Any(r => r.MissesAny && r.Targets is not null) || interrupted.IsCancellationRequested || failed ? 1 : 0;
