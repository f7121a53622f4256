using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sluice.FairBench;

/// <summary>One tenant's answers in one 10-second window.</summary>
internal sealed record ShareWindow(int Index, IReadOnlyList<int> Answered)
{
    public int Total => Answered.Sum();
}

/// <summary>What a fair-share run measured.</summary>
internal sealed record ShareResult(
    string Upstream,
    IReadOnlyList<TenantSpec> Tenants,
    int Seconds,
    int RequestsPerMinute,
    int Workers,
    string Units,
    bool BothLarge,
    IReadOnlyList<ShareWindow> Windows,
    IReadOnlyDictionary<int, int> OtherStatuses,
    UpstreamCount AtUpstream,
    string? ProxyShares)
{
    public double Due(int tenant) => Tenants[tenant].Weight / Tenants.Sum(t => t.Weight);

    /// <summary>The largest |received − due| share of any tenant in any window, in percentage points, and where.</summary>
    public (double Points, int Window, int Tenant) WorstDeviation()
    {
        var worst = (Points: 0.0, Window: -1, Tenant: -1);
        foreach (var window in Windows.Where(w => w.Total > 0))
        {
            for (int t = 0; t < Tenants.Count; t++)
            {
                double points = Math.Abs((window.Answered[t] / (double)window.Total) - Due(t)) * 100;
                if (points > worst.Points || worst.Window < 0)
                {
                    worst = (points, window.Index, t);
                }
            }
        }

        return worst;
    }
}

/// <summary>
/// Target 1: tenants with weights 3:1 (keys of their own), each with many closed-loop clients so both always have
/// requests waiting, saturating one request budget for the run's length. The client records when each answer arrived
/// (the upstream answers after a fixed latency, so that is admission plus the latency); shares are counted per
/// 10-second window against the due 75/25, and the limiter counts its own 429s (and the mock audits its budget).
/// </summary>
internal static class ShareRun
{
    public const int WindowSeconds = 10;

    public static async Task<ShareResult> RunAsync(BenchOptions options, string sluice, string upstreamKind, CancellationToken cancellationToken)
    {
        TenantSpec[] tenants =
        [
            new("app", 3, 0, NewKey()),
            new("batch", 1, 0, NewKey()),
        ];
        // Under a token budget the batch tenant sends large requests, so a fair share of tokens is not one of requests.
        // mock-tpm-same, the control: both tenants send the large requests.
        bool tokens = upstreamKind.StartsWith("mock-tpm", StringComparison.Ordinal);
        bool bothLarge = upstreamKind == "mock-tpm-same";
        int tpm = tokens ? options.TokensPerMinute : 0;
        await using var upstream = await Upstream.StartAsync(tokens ? "mock-tpm" : upstreamKind, options.RequestsPerMinute, options.Latency, options.NginxBurst, cancellationToken, tpm);
        await using var proxy = await ProxyProcess.StartAsync(sluice, upstream.BaseUrl, options.RequestsPerMinute, tenants, options.MaxQueue, cancellationToken, tpm);
        using var client = new ChatClient(proxy.BaseUrl);
        Console.WriteLine($"  share: {upstream.Description}; proxy {proxy.BaseUrl} told {(tokens ? $"tpm {tpm}" : $"rpm {options.RequestsPerMinute}")}; tenants app (weight 3) and batch (weight 1{(tokens ? bothLarge ? "; both send large requests" : ", large requests" : "")}), {options.Workers} clients each, {options.Seconds} s");

        var answers = new ConcurrentQueue<(int Tenant, double At, long Units)>();
        var others = new ConcurrentDictionary<int, int>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        long start = TimeProvider.System.GetTimestamp();
        stop.CancelAfter(TimeSpan.FromSeconds(options.Seconds));
        var workers = new List<Task>();
        for (int t = 0; t < tenants.Length; t++)
        {
            for (int w = 0; w < options.Workers; w++)
            {
                int tenant = t;
                bool large = tokens && (tenant == 1 || bothLarge);
                workers.Add(Task.Run(() => WorkAsync(client, tenants[tenant].Key, tenant, large, tokens, start, answers, others, stop.Token), CancellationToken.None));
            }
        }

        // The proxy's own view of the shares near the end, while both still wait (a cross-check, not the measure).
        string? proxyShares = null;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, options.Seconds - 5)), TimeProvider.System, stop.Token);
            using var status = await client.StatusAsync(tenants[0].Key, stop.Token);
            proxyShares = status is null ? "status refused" : TenantShares(status);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The run ended first.
        }

        await Task.WhenAll(workers);
        // Requests cancelled at the end leave the upstream's count settled within a moment.
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, cancellationToken);
        var count = upstream.Count();

        int windows = options.Seconds / WindowSeconds;
        var perWindow = new int[windows, tenants.Length];
        foreach (var (tenant, at, units) in answers)
        {
            int index = (int)(at / WindowSeconds);
            if (index < windows)
            {
                perWindow[index, tenant] += (int)units;
            }
        }

        var list = Enumerable.Range(0, windows)
            .Select(i => new ShareWindow(i, Enumerable.Range(0, tenants.Length).Select(t => perWindow[i, t]).ToArray()))
            .ToList();
        return new ShareResult(upstream.Description, tenants, options.Seconds, options.RequestsPerMinute, options.Workers, tokens ? "tokens" : "requests", bothLarge, list, new Dictionary<int, int>(others), count, proxyShares);
    }

    public static string NewKey() => "sk-tenant-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static async Task WorkAsync(
        ChatClient client,
        string key,
        int tenant,
        bool large,
        bool countTokens,
        long start,
        ConcurrentQueue<(int, double, long)> answers,
        ConcurrentDictionary<int, int> others,
        CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var (status, at, tokens) = await client.SendAsync(key, large, stop);
                if (status == 200)
                {
                    answers.Enqueue((tenant, TimeProvider.System.GetElapsedTime(start, at).TotalSeconds, countTokens ? tokens : 1));
                }
                else
                {
                    others.AddOrUpdate(status, 1, (_, n) => n + 1);
                    // A refusal (a misconfigured run: 401s) must not spin the two cores.
                    await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, stop);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>The partition's tenants as the proxy reports them: name, share received over the last 10 s, share due.</summary>
    private static string TenantShares(JsonDocument status)
    {
        var parts = new List<string>();
        foreach (var partition in status.RootElement.GetProperty("upstreams").EnumerateArray().SelectMany(u => u.GetProperty("partitions").EnumerateArray()))
        {
            if (!partition.TryGetProperty("tenants", out var tenants))
            {
                return "no tenants in the status";
            }

            foreach (var tenant in tenants.EnumerateArray())
            {
                double received = tenant.TryGetProperty("share_received", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : double.NaN;
                string due = tenant.TryGetProperty("share_due", out var d) && d.ValueKind == JsonValueKind.Number
                    ? d.GetDouble().ToString("P0", CultureInfo.InvariantCulture)
                    : "—";
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"{tenant.GetProperty("name").GetString()} {received:P1} (due {due})"));
            }
        }

        return string.Join(", ", parts);
    }
}
