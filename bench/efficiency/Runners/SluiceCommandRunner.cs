using System.Globalization;

namespace Sluice.Efficiency.Runners;

/// <summary>
/// The whole <c>sluice run</c> command as a user types it, in a process of its own: <c>dotnet Sluice.Cli.dll run
/// requests.jsonl -o results.jsonl --base-url URL [--rpm N]</c>. Its time is the command's, process start, tokenizer
/// load, validation, journal and results rebuild included — no warm-up in this process can hide them. What it
/// delivered is read back from its results file.
/// </summary>
internal sealed class SluiceCommandRunner(bool told) : Runner
{
    /// <summary>The variable the command reads its API key from: the limiters here want none, but the command does.</summary>
    private const string KeyVariable = "SLUICE_BENCH_API_KEY";

    public override string Key => told ? "sluice-run" : "sluice-run-untold";

    public override string DisplayName => told ? "sluice run --rpm (whole command)" : "sluice run, told nothing (whole command)";

    public override bool IsSluice => true;

    public override bool KnowsBudget => told;

    public override bool CountsAttemptsOnClient => false;

    public override Task PrepareAsync(CancellationToken cancellationToken) => SluiceCli.BuildAsync(cancellationToken);

    public override async Task RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        string results = Path.Combine(context.Directory, "results.jsonl");
        var arguments = new List<string> { SluiceCli.Assembly, "run", context.BatchFile, "-o", results, "--base-url", context.BaseUrl.ToString(), "--api-key-env", KeyVariable };
        if (told)
        {
            var budget = context.Scenario.InitialBudget;
            if (budget.RequestsPerMinute is { } rpm)
            {
                arguments.AddRange(["--rpm", rpm.ToString(CultureInfo.InvariantCulture)]);
            }

            if (budget.TokensPerMinute is { } tpm)
            {
                arguments.AddRange(["--tpm", tpm.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        if (context.Scenario.SluiceAttemptTimeout is { } timeout)
        {
            arguments.AddRange(["--timeout", $"{timeout.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)}ms"]);
        }

        var outcome = await ChildProcess.RunAsync(
            "dotnet",
            arguments,
            context.Directory,
            new Dictionary<string, string> { [KeyVariable] = "sk-bench-not-a-key", ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
            cancellationToken).ConfigureAwait(false);
        await ResultsFile.CountAsync(results, context.Workload.Count, context.Tally, $"no results line (exit {outcome.ExitCode})", cancellationToken)
            .ConfigureAwait(false);
        if (outcome.ExitCode is not (0 or 1))
        {
            await Console.Error.WriteLineAsync($"    sluice run exited {outcome.ExitCode}: {outcome.Error.Trim()}").ConfigureAwait(false);
        }
    }
}
