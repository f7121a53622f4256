using System.Globalization;
using System.Text;

namespace Sluice.Efficiency.Measure;

/// <summary>The run's one table, as aligned text for the terminal and as Markdown for docs. A missed target is marked ✗.</summary>
internal static class ResultTable
{
    private const string Miss = " ✗";

    private static readonly string[] Headers =
        ["scenario", "runner", "wall s", "ideal s", "efficiency", "best peer", "attempts", "429 %", "retries", "lost", "violations"];

    public static string Text(IReadOnlyList<RowResult> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var cells = rows.Select(Cells).ToList();
        int[] widths = Headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder();
        AppendLine(text, Headers, widths);
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        string? previous = null;
        foreach (var (row, cell) in rows.Zip(cells))
        {
            if (previous is not null && previous != row.Scenario)
            {
                text.AppendLine();
            }

            previous = row.Scenario;
            AppendLine(text, cell, widths);
        }

        return text.ToString();
    }

    public static string Markdown(IReadOnlyList<RowResult> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", Headers) + " |");
        text.AppendLine("|" + string.Concat(Headers.Select((_, i) => i < 2 ? "---|" : "---:|")));
        foreach (var row in rows)
        {
            text.AppendLine("| " + string.Join(" | ", Cells(row).Select(c => c.Replace("|", "\\|", StringComparison.Ordinal))) + " |");
        }

        return text.ToString();
    }

    private static string[] Cells(RowResult row) =>
    [
        row.Scenario,
        row.Runner,
        (row.Capped ? "≥" : "") + Number(row.Wall.TotalSeconds, "F1") + (row.Capped ? " (cap)" : ""),
        Number(row.Ideal.TotalSeconds, "F1"),
        // A batch that lost requests did not finish: its speed is not comparable.
        (row.Finished ? Number(row.Efficiency, "F3") : "—") + (row.MissesEfficiency ? Miss : ""),
        row.BestPeerEfficiency is { } best ? Number(best, "F3") + (row.MissesPeer ? Miss : "") : "",
        Number(row.Attempts, "N0"),
        Number(row.ThrottledShare * 100, "F1") + (row.MissesThrottled ? Miss : ""),
        row.Retries is { } retries ? Number(retries, "N0") : "—",
        Number(row.Lost, "N0") + (row.Unfinished > 0 ? $" ({Number(row.Unfinished, "N0")} unfinished)" : "") + (row.MissesLost ? Miss : ""),
        row.Violations is { } violations ? Number(violations, "N0") + (row.MissesViolations ? Miss : "") : "—",
    ];

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static void AppendLine(StringBuilder text, string[] cells, int[] widths)
    {
        for (int i = 0; i < cells.Length; i++)
        {
            // Text columns left, numbers right.
            text.Append(i < 2 ? cells[i].PadRight(widths[i]) : cells[i].PadLeft(widths[i]));
            text.Append(i + 1 < cells.Length ? "  " : "");
        }

        text.AppendLine();
    }
}
