using System.Globalization;
using System.Text;

namespace Sluice.FairBench;

/// <summary>The two markdown tables: shares per 10-second window, and the interactive tenant's added wait.</summary>
internal static class ResultTable
{
    public static string Shares(IReadOnlyList<ShareResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| upstream | tenants (weight), closed-loop clients each | answered app / batch (requests, or tokens under a token budget) | share app / batch, whole run (due 75 / 25) | app's share per 10-s window | worst window: deviation from due | 429s at the upstream (of attempts) | mock's budget violations | other answers |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            int app = r.Windows.Sum(w => w.Answered[0]);
            int batch = r.Windows.Sum(w => w.Answered[1]);
            int total = Math.Max(1, app + batch);
            var (points, window, tenant) = r.WorstDeviation();
            string perWindow = string.Join(" · ", r.Windows.Select(w => w.Total == 0 ? "—" : (w.Answered[0] / (double)w.Total * 100).ToString("F1", CultureInfo.InvariantCulture)));
            string others = r.OtherStatuses.Count == 0 ? "none" : string.Join(", ", r.OtherStatuses.OrderBy(s => s.Key).Select(s => $"{(s.Key == 0 ? "failed" : s.Key.ToString(CultureInfo.InvariantCulture))} × {s.Value}"));
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {r.Upstream} | app (3), batch (1){(r.Units == "tokens" ? r.BothLarge ? ", the same large requests" : " sending ~6× larger requests" : "")}; {r.Workers} each | {app:N0} / {batch:N0} {r.Units} | {app * 100.0 / total:F1} / {batch * 100.0 / total:F1} | {perWindow} | **{points:F1} points** ({r.Tenants[Math.Max(0, tenant)].Name}, {window * ShareRun.WindowSeconds}–{(window + 1) * ShareRun.WindowSeconds} s) | {r.AtUpstream.Throttled:N0} of {r.AtUpstream.Attempts:N0} | {(r.AtUpstream.Violations is { } v ? v.ToString("N0", CultureInfo.InvariantCulture) : "— (nginx keeps no audit)")} | {others} |"));
        }

        return text.ToString();
    }

    public static string Waits(IReadOnlyList<InteractiveResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| upstream | setup | batch waiting | interactive answered | added wait p50 | p90 | p99 (nearest rank: the max of up to 100) | over the target | target: p99 under | batch answered meanwhile | 429s at the upstream: filling / measuring (mock's violations) |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            string Ms(double p) => r.AddedWaitsMs.Count == 0 ? "—" : Percentile.Of(r.AddedWaitsMs, p).ToString("N1", CultureInfo.InvariantCulture) + " ms";
            string answered = string.Create(CultureInfo.InvariantCulture, $"{r.AddedWaitsMs.Count} of {r.Sent}");
            if (r.AddedWaitsMs.Count == 0)
            {
                answered += string.Create(CultureInfo.InvariantCulture, $" (each waits behind the backlog: ≈ {r.BacklogWaiting * r.IntervalMs / 1000:N0} s)");
            }

            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {r.Upstream} | {r.Setup} | {r.BacklogWaiting:N0} | {answered} | {Ms(50)} | {Ms(90)} | **{Ms(99)}** | {r.AddedWaitsMs.Count(w => w >= r.IntervalMs)} | {r.IntervalMs:N0} ms | {r.BatchAnswered:N0} | {(r.WhileFilling is { } f ? $"{f.Throttled:N0} of {f.Attempts:N0}" : "—")} / {r.AtUpstream.Throttled:N0} of {r.AtUpstream.Attempts:N0}{(r.AtUpstream.Violations is { } v ? $" ({v + (r.WhileFilling?.Violations ?? 0)})" : "")} |"));
        }

        return text.ToString();
    }
}
