using System.Globalization;
using System.Text;
using System.Text.Json;
using Sluice.Cli.Common;

namespace Sluice.Cli.Run;

/// <summary>
/// What <c>sluice run --dry-run</c> prints: per model, its lines, estimated input tokens, output cap tokens and
/// worst-case cost, then the total and the models without a price. Text as a table, or one JSON object with
/// <c>--log-format json</c>.
/// </summary>
internal static class DryRunReport
{
    public static string Text(RunCostScan scan, string inputPath, string pricesDescription, decimal? cap = null)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = scan.Models.Select(m => (Name: TerminalText.Escape(m.Key), m.Value.Lines, m.Value.InputTokens, m.Value.OutputTokens, Cost: Cost(m.Value.WorstCase)))
            .Append((Name: "total", scan.Lines, InputTokens: scan.Models.Values.Sum(m => m.InputTokens), OutputTokens: scan.Models.Values.Sum(m => m.OutputTokens),
                Cost: (scan.AllPriced ? "" : "at least ") + SpendAmountText.Format(scan.WorstCase)))
            .ToList();
        string[] head = ["model", "lines", "input tokens (est.)", "output cap tokens", "worst-case cost"];
        var cells = rows.Select(r => new[] { r.Name, r.Lines.ToString("N0", inv), r.InputTokens.ToString("N0", inv), r.OutputTokens.ToString("N0", inv), r.Cost }).ToList();
        int[] widths = [.. Enumerable.Range(0, head.Length).Select(i => cells.Select(c => c[i].Length).Append(head[i].Length).Max())];

        var text = new StringBuilder();
        text.AppendLine(inv, $"sluice run --dry-run: {TerminalText.Escape(inputPath)}, {scan.Lines:N0} valid lines; nothing was sent, nothing was written.");
        text.AppendLine(Row(head, widths));
        foreach (var row in cells)
        {
            text.AppendLine(Row(row, widths));
        }

        text.AppendLine(inv, $"  prices: {pricesDescription}");
        var unpriced = scan.Models.Where(m => m.Value.WorstCase is null).ToList();
        if (unpriced.Count > 0)
        {
            string list = string.Join(", ", unpriced.Select(m => string.Create(inv, $"{TerminalText.Escape(m.Key)} ({m.Value.Lines:N0} line{(m.Value.Lines == 1 ? "" : "s")}, first on line {m.Value.FirstLine})")));
            text.AppendLine(inv, $"  no price for: {list}; their cost is not in the total. Add them with --prices FILE (see docs/spend.md).");
        }

        if (cap is { } limit)
        {
            text.AppendLine(scan.WorstCase <= limit && scan.AllPriced
                ? $"  --max-spend {SpendAmountText.Format(limit)}: the whole file fits under it even at its worst case."
                : $"  --max-spend {SpendAmountText.Format(limit)}: the worst case passes it; a run stops before the cap (exit 3) unless answers cost less than their worst case, and a rerun with a higher cap finishes it.");
        }

        text.Append("  Worst case: every prompt as estimated and every answer as long as its output cap; answers usually cost less.");
        return text.ToString();
    }

    public static string Json(RunCostScan scan, TimeProvider time, string pricesDescription)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow());
            writer.WriteString("event", "dry_run");
            writer.WriteNumber("lines", scan.Lines);
            writer.WriteStartArray("models");
            foreach (var (name, estimate) in scan.Models)
            {
                writer.WriteStartObject();
                writer.WriteString("model", name);
                writer.WriteNumber("lines", estimate.Lines);
                writer.WriteNumber("input_tokens", estimate.InputTokens);
                writer.WriteNumber("output_cap_tokens", estimate.OutputTokens);
                if (estimate.WorstCase is { } cost)
                {
                    writer.WriteNumber("worst_case_cost", Math.Round(cost, 6));
                }
                else
                {
                    writer.WriteNull("worst_case_cost");
                }

                writer.WriteNumber("first_line", estimate.FirstLine);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteNumber("worst_case_cost", Math.Round(scan.WorstCase, 6));
            writer.WriteBoolean("all_priced", scan.AllPriced);
            writer.WriteString("prices", pricesDescription);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static string Cost(decimal? cost) => cost is { } c ? SpendAmountText.Format(c) : "no price";

    // The name left-aligned, the numbers right-aligned.
    private static string Row(string[] cells, int[] widths) =>
        "  " + string.Join("  ", cells.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i])));
}
