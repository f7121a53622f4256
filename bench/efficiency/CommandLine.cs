using System.Globalization;
using Sluice.Efficiency.Runners;

namespace Sluice.Efficiency;

/// <summary>The runner's arguments. Plain parsing: a handful of options, no subcommands.</summary>
internal sealed record CommandLine
{
    public const string Usage = """
        Sluice budget-efficiency scenarios: Sluice and its peers against `sluice mock` and a real nginx limit_req
        (Debian's nginx and libnginx-mod-http-echo), one table.

        usage: dotnet run -c Release --project bench/efficiency -- [options]

          --scenario NAME[,NAME]   run only these scenarios (repeatable); default: all
          --runner NAME[,NAME]     run only these rows (repeatable): sluice-budget, sluice-no-budget,
                                   sluice-run, sluice-run-untold, bottleneck, parallel-resilience, blog;
                                   default: all
          --seed N                 seeds the workload, the mock's latency and faults, and jitter (default 17)
          --parallelism N          Parallel.ForEachAsync's MaxDegreeOfParallelism for the baseline (default 16)
          --markdown FILE          also write the table as Markdown to FILE
          --list                   list the scenarios and rows, and exit
          --help                   this text

        Exit code: 0 when every Sluice row met the issue's targets, 1 when one missed, 2 for a usage error.
        """;

    public IReadOnlyList<string> Scenarios { get; init; } = [];

    public IReadOnlyList<string> Runners { get; init; } = [];

    public int Seed { get; init; } = 17;

    public int Parallelism { get; init; } = ParallelResilienceRunner.DefaultParallelism;

    public string? MarkdownFile { get; init; }

    public bool List { get; init; }

    public bool Help { get; init; }

    /// <summary>Parses <paramref name="args"/>; an error says what was wrong.</summary>
    public static (CommandLine? Line, string? Error) Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var line = new CommandLine();
        var scenarios = new List<string>();
        var runners = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? Value() => i + 1 < args.Count ? args[++i] : null;
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    line = line with { Help = true };
                    break;
                case "--list":
                    line = line with { List = true };
                    break;
                case "--scenario" or "--runner":
                    if (Value() is not { } names)
                    {
                        return (null, $"{arg} needs a name");
                    }

                    (arg == "--scenario" ? scenarios : runners).AddRange(
                        names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--seed" or "--parallelism":
                    if (!int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int number)
                        || (arg == "--parallelism" && number < 1))
                    {
                        return (null, $"{arg} needs {(arg == "--seed" ? "an integer" : "a positive integer")}");
                    }

                    line = arg == "--seed" ? line with { Seed = number } : line with { Parallelism = number };
                    break;
                case "--markdown":
                    if (Value() is not { } file)
                    {
                        return (null, "--markdown needs a file name");
                    }

                    line = line with { MarkdownFile = file };
                    break;
                default:
                    return (null, $"unknown argument '{arg}'");
            }
        }

        return (line with { Scenarios = scenarios, Runners = runners }, null);
    }
}
