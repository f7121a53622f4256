// Fair share and priorities through `sluice proxy` (issue 18): tenants with weights 3:1 saturating one request budget
// (shares per 10-second window), and an interactive tenant beside a 10,000-request batch backlog (its added wait),
// against `sluice mock` and a real nginx limit_req, with Bottleneck as the peer. See docs/benchmarks.md, "Tenants and
// fair share". The proxy is the real `sluice` binary built from this checkout.
using System.Globalization;
using System.Runtime.InteropServices;
using Sluice.FairBench;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}\n\n{BenchOptions.Usage}");
    return 2;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};
// `kill` (SIGTERM) unwinds like Ctrl-C, so the proxy, nginx and the mock are stopped on the way out.
using var terminated = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});

string sluice;
try
{
    sluice = SluiceBinary.Locate(options.Cli);
}
catch (FileNotFoundException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}");
    return 2;
}

string machine = $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}";
Console.WriteLine(string.Create(
    CultureInfo.InvariantCulture,
    $"Fair share through sluice proxy ({sluice}): rpm {options.RequestsPerMinute}, upstream latency {options.Latency.TotalMilliseconds:F0} ms, {options.Seconds} s per run; {machine}"));
var shares = new List<ShareResult>();
var waits = new List<InteractiveResult>();
bool failed = false;
try
{
    foreach (string run in options.Runs)
    {
        string[] parts = run.Split(':');
        if (parts[0] == "share")
        {
            var result = await ShareRun.RunAsync(options, sluice, parts[1], interrupted.Token);
            shares.Add(result);
            var (points, window, tenant) = result.WorstDeviation();
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"    app's share per window: {string.Join(" ", result.Windows.Select(w => w.Total == 0 ? "—" : $"{w.Answered[0]}/{w.Total}"))}; worst deviation {points:F1} points ({result.Tenants[Math.Max(0, tenant)].Name}, window {window}); upstream 429s {result.AtUpstream.Throttled}, violations {result.AtUpstream.Violations?.ToString(CultureInfo.InvariantCulture) ?? "—"}; proxy says: {result.ProxyShares ?? "—"}"));
        }
        else
        {
            var result = await InteractiveRun.RunAsync(options, sluice, parts[1], parts[2], interrupted.Token);
            waits.Add(result);
            string P(double p) => result.AddedWaitsMs.Count == 0 ? "—" : Percentile.Of(result.AddedWaitsMs, p).ToString("F1", CultureInfo.InvariantCulture);
            Console.WriteLine($"    interactive answered {result.AddedWaitsMs.Count} of {result.Sent}; added wait p50 {P(50)} ms, p90 {P(90)} ms, p99 {P(99)} ms, max {P(100)} ms (target p99 < {result.IntervalMs:F0} ms); batch answered meanwhile {result.BatchAnswered}; upstream 429s {result.AtUpstream.Throttled} of {result.AtUpstream.Attempts}");
        }
    }
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.WriteLine("interrupted: the tables have the runs that finished");
}
catch (Exception exception) when (exception is InvalidOperationException or IOException or TimeoutException or ArgumentException)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}");
    failed = true;
}

string markdown = string.Create(
    CultureInfo.InvariantCulture,
    $"<!-- bench/fairness, {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC, {machine}; rpm {options.RequestsPerMinute}, latency {options.Latency.TotalMilliseconds:F0} ms, {options.Seconds} s, backlog {options.Backlog} -->\n")
    + (shares.Count > 0 ? "\n" + ResultTable.Shares(shares) : "")
    + (waits.Count > 0 ? "\n" + ResultTable.Waits(waits) : "");
Console.WriteLine();
Console.Write(markdown);
if (options.MarkdownFile is { } file)
{
    await File.WriteAllTextAsync(file, markdown);
    Console.WriteLine($"Markdown written to {file}");
}

return failed || interrupted.IsCancellationRequested ? 1 : 0;
