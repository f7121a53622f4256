using System.Globalization;
using System.Text;

namespace Sluice.Efficiency.Peers;

/// <summary>
/// One measured run of <see cref="PeerBench"/>: N processes on one key in one mode, and what the mock and the results
/// files say about it.
/// </summary>
internal sealed record PeerRow
{
    /// <summary>The issue's targets for uncoordinated processes: 429s at most this share of attempts.</summary>
    public const double UncoordinatedThrottleShare = 0.03;

    /// <summary>The issue's targets for uncoordinated processes: completion at most this multiple of the ideal.</summary>
    public const double UncoordinatedCompletion = 1.1;

    /// <summary>The issue's targets through Redis: 429s at most this share of attempts.</summary>
    public const double RedisThrottleShare = 0.01;

    /// <summary>The issue's targets through Redis: combined efficiency at least this.</summary>
    public const double RedisEfficiency = 0.95;

    public required string Mode { get; init; }

    public required int Processes { get; init; }

    public required bool Told { get; init; }

    public required int Requests { get; init; }

    /// <summary>Requests the mock received: every attempt, refused ones included.</summary>
    public required long Attempts { get; init; }

    /// <summary>Attempts the mock refused for a rate limit (429).</summary>
    public required long Throttled { get; init; }

    /// <summary>Admissions beyond a budget in any window, by the mock's own audit (0 when the mock works: it refuses the rest).</summary>
    public required long Violations { get; init; }

    /// <summary>Requests with no successful results line, or one named twice.</summary>
    public required long Lost { get; init; }

    /// <summary>From starting the processes to the last one's exit.</summary>
    public required TimeSpan Wall { get; init; }

    /// <summary>From the first request reaching the mock to the last process's exit: the processes' start-up left out.</summary>
    public required TimeSpan Sending { get; init; }

    /// <summary>The whole batch at the budget's rate, plus one mean latency (<see cref="Measure.IdealTime"/>).</summary>
    public required TimeSpan Ideal { get; init; }

    /// <summary>Processes that exited with a code other than 0.</summary>
    public required int FailedProcesses { get; init; }

    public double ThrottleShare => Attempts == 0 ? 0 : (double)Throttled / Attempts;

    public double Completion => Sending.TotalSeconds / Ideal.TotalSeconds;

    public double WallCompletion => Wall.TotalSeconds / Ideal.TotalSeconds;

    public bool MissesTargets => Mode == "redis"
        ? ThrottleShare > RedisThrottleShare || 1 / Completion < RedisEfficiency || Violations > 0 || Lost > 0
        : ThrottleShare > UncoordinatedThrottleShare || Completion > UncoordinatedCompletion || Violations > 0 || Lost > 0;

    public static string Markdown(IReadOnlyList<PeerRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        text.AppendLine("| mode | processes | told the budget | attempts | 429s | 429 share | completion ÷ ideal (from first request) | wall ÷ ideal (process start included) | violations | lost |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {row.Mode} | {row.Processes} | {(row.Told ? "yes" : "no")} | {row.Attempts:N0} | {row.Throttled:N0} | {row.ThrottleShare:P1} | {row.Sending.TotalSeconds:F1} s ÷ {row.Ideal.TotalSeconds:F1} s = {row.Completion:F3} | {row.WallCompletion:F3} | {row.Violations} | {row.Lost} |"));
        }

        return text.ToString();
    }

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Mode,-6} {Processes,3} processes{(Told ? " (told)" : "")}: attempts {Attempts}, 429s {Throttled} ({ThrottleShare:P1}), sending {Sending.TotalSeconds:F1} s / ideal {Ideal.TotalSeconds:F1} s = {Completion:F3} (wall {Wall.TotalSeconds:F1} s = {WallCompletion:F3}), violations {Violations}, lost {Lost}, failed processes {FailedProcesses}{(MissesTargets ? "  ✗" : "")}");
}
