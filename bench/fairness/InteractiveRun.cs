using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;

namespace Sluice.FairBench;

/// <summary>What an interactive-beside-batch run measured.</summary>
/// <param name="Upstream">The limiter, as it reads in the table.</param>
/// <param name="Setup">How the clients were told apart (tenants off, weights, priorities; or the peer).</param>
/// <param name="RequestsPerMinute">The budget, told to the proxy (or the peer).</param>
/// <param name="Seconds">How long the interactive tenant sent.</param>
/// <param name="Sent">Interactive requests sent, one a second.</param>
/// <param name="AddedWaitsMs">Each answered interactive request's latency minus the upstream's own (measured directly before the run).</param>
/// <param name="UpstreamLatencyMs">The upstream's own latency, subtracted.</param>
/// <param name="BacklogWaiting">Batch requests waiting at the proxy (or the peer's queue) when the interactive ones began.</param>
/// <param name="BatchAnswered">Batch requests answered while the interactive tenant sent.</param>
/// <param name="AtUpstream">What the limiter counted while the interactive tenant sent.</param>
/// <param name="WhileFilling">What it counted while the backlog connected and filled the proxy's queue (null for the peer).</param>
internal sealed record InteractiveResult(
    string Upstream,
    string Setup,
    int RequestsPerMinute,
    int Seconds,
    int Sent,
    IReadOnlyList<double> AddedWaitsMs,
    double UpstreamLatencyMs,
    long BacklogWaiting,
    long BatchAnswered,
    UpstreamCount AtUpstream,
    UpstreamCount? WhileFilling = null)
{
    /// <summary>One request's share of the budget interval: 60,000 ms ÷ rpm (100 ms at 600 rpm).</summary>
    public double IntervalMs => 60_000.0 / RequestsPerMinute;
}

/// <summary>
/// Target 2: a batch tenant with a deep backlog (10,000 requests) waiting at the proxy, and an interactive tenant
/// sending one request a second beside it. The interactive request's added wait is its latency through the proxy
/// minus the upstream's own latency (measured directly, before the run, with the budget idle). Modes: <c>fifo</c>
/// (tenants off, one anonymous client: the before), <c>fair</c> (two tenants, equal weight and priority: fair queuing
/// alone), <c>priority</c> (the interactive tenant at priority 1).
/// </summary>
internal static class InteractiveRun
{
    public static async Task<InteractiveResult> RunAsync(BenchOptions options, string sluice, string upstreamKind, string mode, CancellationToken cancellationToken)
    {
        await using var upstream = await Upstream.StartAsync(upstreamKind, options.RequestsPerMinute, options.Latency, options.NginxBurst, cancellationToken);
        double upstreamLatency = await UpstreamLatencyAsync(upstream.BaseUrl, options, cancellationToken);
        // The direct requests are not the run's: the counts below are from here on.
        var before = upstream.Count();
        if (mode is "bottleneck" or "bottleneck-uncapped")
        {
            var peer = await BottleneckPeer.RunAsync(options, upstream, upstreamLatency, capped: mode == "bottleneck", cancellationToken);
            return peer with { AtUpstream = Since(peer.AtUpstream, before) };
        }

        var interactive = new TenantSpec("app", 1, mode == "priority" ? 1 : 0, ShareRun.NewKey());
        var batch = new TenantSpec("batch", 1, 0, ShareRun.NewKey());
        TenantSpec[] tenants = mode switch
        {
            "fifo" => [],
            "fair" or "priority" => [interactive, batch],
            _ => throw new ArgumentException($"unknown mode '{mode}' (fifo, fair, priority, bottleneck)", nameof(mode)),
        };
        string setup = mode switch
        {
            "fifo" => "tenants off: one anonymous client (FIFO)",
            "fair" => "tenants app and batch, weight 1 each, priority 0 (fair queuing alone)",
            _ => "tenants: app priority 1, batch priority 0, weight 1 each",
        };
        // Tenants off: both send the same client key, which the proxy (holding the upstream's key) ignores.
        string interactiveKey = tenants.Length == 0 ? "sk-anonymous" : interactive.Key;
        string batchKey = tenants.Length == 0 ? "sk-anonymous" : batch.Key;

        await using var proxy = await ProxyProcess.StartAsync(sluice, upstream.BaseUrl, options.RequestsPerMinute, tenants, options.MaxQueue, cancellationToken);
        using var client = new ChatClient(proxy.BaseUrl);
        Console.WriteLine($"  wait ({mode}): {upstream.Description}; upstream latency {upstreamLatency:F1} ms; {setup}; backlog {options.Backlog:N0}");

        using var backlogStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long batchAnswered = 0;
        var backlog = new Task[options.Backlog];
        for (int i = 0; i < backlog.Length; i++)
        {
            backlog[i] = Task.Run(
                async () =>
                {
                    try
                    {
                        var (status, _) = await client.SendAsync(batchKey, backlogStop.Token);
                        if (status == 200)
                        {
                            Interlocked.Increment(ref batchAnswered);
                        }
                    }
                    catch (OperationCanceledException) when (backlogStop.IsCancellationRequested)
                    {
                        // The run is over.
                    }
                },
                CancellationToken.None);
        }

        long waiting = await WaitForBacklogAsync(client, interactiveKey, options.Backlog, cancellationToken);
        Console.WriteLine($"    {waiting:N0} batch requests waiting at the proxy; interactive: one request a second for {options.Seconds} s");
        long answeredBefore = Interlocked.Read(ref batchAnswered);
        var filled = upstream.Count();

        var waits = new ConcurrentQueue<double>();
        using var interactiveStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sends = new List<Task>();
        long start = TimeProvider.System.GetTimestamp();
        foreach (var arrival in Arrivals(options.Seconds))
        {
            var due = arrival - TimeProvider.System.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, TimeProvider.System, cancellationToken);
            }

            sends.Add(Task.Run(
                async () =>
                {
                    long sent = TimeProvider.System.GetTimestamp();
                    try
                    {
                        var (status, at) = await client.SendAsync(interactiveKey, interactiveStop.Token);
                        if (status == 200)
                        {
                            waits.Enqueue(TimeProvider.System.GetElapsedTime(sent, at).TotalMilliseconds - upstreamLatency);
                        }
                    }
                    catch (OperationCanceledException) when (interactiveStop.IsCancellationRequested)
                    {
                        // Still waiting when the run ended: counted as unanswered.
                    }
                },
                CancellationToken.None));
        }

        // The last one gets the same grace as the others had: a few seconds, then whatever still waits is unanswered.
        interactiveStop.CancelAfter(TimeSpan.FromSeconds(5));
        await Task.WhenAll(sends);
        long batchDuring = Interlocked.Read(ref batchAnswered) - answeredBefore;
        await backlogStop.CancelAsync();
        await Task.WhenAll(backlog);
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, cancellationToken);
        return new InteractiveResult(upstream.Description, setup, options.RequestsPerMinute, options.Seconds, options.Seconds, waits.ToArray(), upstreamLatency, waiting, batchDuring, Since(upstream.Count(), filled), Since(filled, before));
    }

    /// <summary>
    /// When the interactive requests are sent: one in each second, at a seeded uniform point within it. Sent exactly
    /// every second instead, they would keep nearly the same phase against the budget's admission grid (100 ms at 600
    /// rpm divides a second), and the run would measure one phase, not the wait a request arriving at any time meets.
    /// </summary>
    public static IReadOnlyList<TimeSpan> Arrivals(int seconds)
    {
        var random = new Random(18);
        return Enumerable.Range(0, seconds).Select(i => TimeSpan.FromSeconds(i + random.NextDouble())).ToArray();
    }

    private static UpstreamCount Since(UpstreamCount now, UpstreamCount before) =>
        new(now.Attempts - before.Attempts, now.Throttled - before.Throttled, now.Violations - before.Violations);

    /// <summary>
    /// The upstream's own latency: the median of a few requests sent to it directly, spaced within its budget, before
    /// the run (then a pause so its bucket is full again).
    /// </summary>
    private static async Task<double> UpstreamLatencyAsync(Uri upstream, BenchOptions options, CancellationToken cancellationToken)
    {
        using var direct = new ChatClient(upstream);
        var times = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            long sent = TimeProvider.System.GetTimestamp();
            var (status, at) = await direct.SendAsync("sk-direct", cancellationToken);
            if (status == 200 && i > 1)
            {
                // The first two warm the connection.
                times.Add(TimeProvider.System.GetElapsedTime(sent, at).TotalMilliseconds);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(3 * 60_000.0 / options.RequestsPerMinute), TimeProvider.System, cancellationToken);
        }

        await Task.Delay(TimeSpan.FromSeconds(2), TimeProvider.System, cancellationToken);
        return times.Count > 0 ? Percentile.Of(times, 50) : throw new InvalidOperationException($"the upstream {upstream} did not answer directly");
    }

    /// <summary>Polls the proxy's status until (nearly) the whole backlog waits there — at most a minute.</summary>
    private static async Task<long> WaitForBacklogAsync(ChatClient client, string key, int backlog, CancellationToken cancellationToken)
    {
        long started = TimeProvider.System.GetTimestamp();
        long waiting = 0;
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, cancellationToken);
            using JsonDocument? status = await client.StatusAsync(key, cancellationToken);
            if (status is null)
            {
                throw new InvalidOperationException("the proxy refused its status to a tenant key");
            }

            waiting = ChatClient.Waiting(status);
            // What drained while the rest connected is gone; 95% of the backlog waiting is the deep queue the target means.
            if (waiting >= backlog * 0.95)
            {
                return waiting;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    only {waiting:N0} of {backlog:N0} waiting after a minute; measuring anyway"));
        return waiting;
    }
}
