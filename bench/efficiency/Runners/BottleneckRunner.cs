using System.Globalization;
using System.Text.Json;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// The strongest peer measured: Bottleneck (npm, <c>peers/package.json</c> pins 2.19.5) told the true request rate, as
/// <c>minTime</c>, retrying 429s after 100 ms — <c>peers/bottleneck-run.mjs</c>, a process of its own reading the
/// same batch file and sending with Node's <c>fetch</c>. Its time includes Node's start, as the whole command's does.
/// It knows no token budget: in a token-bound scenario it is told only the request rate.
/// </summary>
internal sealed class BottleneckRunner : Runner
{
    public override string Key => "bottleneck";

    public override string DisplayName => "Bottleneck 2.19.5 (told the rate)";

    public override bool KnowsBudget => true;

    public override bool CountsAttemptsOnClient => false;

    private static string Peers => Path.Combine(SluiceCli.RepositoryRoot(), "bench", "efficiency", "peers");

    /// <summary>Installs the pinned packages from the lock file (<c>npm ci</c>) when node_modules is missing.</summary>
    public override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(Path.Combine(Peers, "node_modules", "bottleneck")))
        {
            return;
        }

        Console.WriteLine("npm ci in bench/efficiency/peers (Bottleneck, pinned)...");
        var install = await ChildProcess.RunAsync("npm", ["ci", "--no-audit", "--no-fund"], Peers, null, cancellationToken).ConfigureAwait(false);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"npm ci failed in {Peers}:\n{install.Output}{install.Error}");
        }
    }

    public override async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        // No request budget (the warm-up): no limit.
        int rpm = context.Scenario.InitialBudget.RequestsPerMinute ?? 0;
        var outcome = await ChildProcess.RunAsync(
            "node",
            [Path.Combine(Peers, "bottleneck-run.mjs"), context.BatchFile, context.BaseUrl.ToString(), rpm.ToString(CultureInfo.InvariantCulture)],
            Peers,
            null,
            cancellationToken).ConfigureAwait(false);
        if (outcome.ExitCode != 0)
        {
            throw new InvalidOperationException($"bottleneck-run.mjs exited {outcome.ExitCode}: {outcome.Error}");
        }

        using var summary = JsonDocument.Parse(outcome.Output);
        var root = summary.RootElement;
        for (int i = 0; i < root.GetProperty("succeeded").GetInt32(); i++)
        {
            context.Tally.CountEnd(null);
        }

        foreach (var loss in root.GetProperty("lost").EnumerateObject())
        {
            for (int i = 0; i < loss.Value.GetInt32(); i++)
            {
                context.Tally.CountEnd(loss.Name);
            }
        }
    }
}
