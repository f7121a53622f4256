using System.Globalization;

namespace Sluice.Efficiency.Peers;

/// <summary>
/// The arguments of <c>peers</c>: several <c>sluice run</c> processes on one API key against one mock. Plain parsing,
/// as <see cref="CommandLine"/> does for the main bench.
/// </summary>
internal sealed record PeerOptions
{
    public const string Usage = """
        Sluice on one API key from several processes (issue 15): N `sluice run` processes, each on its own slice of one
        batch, against one in-process `sluice mock` with a known budget and OpenAI's x-ratelimit-* headers.

        usage: dotnet run -c Release --project bench/efficiency -- peers [options]

          --processes N[,N]     how many processes share the key (repeatable; default 10)
          --mode MODE[,MODE]    none (uncoordinated) or redis (each process gets --redis on a redis-server the bench
                                starts; needs `sluice run --redis`); default none
          --requests N          the whole batch (default 1500)
          --rpm N               the mock's requests per minute (default 1500)
          --tpm N               the mock's tokens per minute (default 300000)
          --told                give every process the key's budget (--rpm, --tpm), as a user would
          --cli PATH            a built Sluice.Cli.dll to run (default: build src/Sluice.Cli of this checkout)
          --seed N              seeds the batch and the mock (default 17)
          --markdown FILE       also write the table as Markdown to FILE
          --trace               print the mock's attempts and 429s each second
          --help                this text
        """;

    public IReadOnlyList<int> Processes { get; init; } = [10];

    public IReadOnlyList<string> Modes { get; init; } = ["none"];

    public int Requests { get; init; } = 1_500;

    public int RequestsPerMinute { get; init; } = 1_500;

    public int TokensPerMinute { get; init; } = 300_000;

    public bool Told { get; init; }

    public string? Cli { get; init; }

    public int Seed { get; init; } = 17;

    public string? MarkdownFile { get; init; }

    public bool Help { get; init; }

    public bool Trace { get; init; }

    public static (PeerOptions? Options, string? Error) Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var options = new PeerOptions();
        var processes = new List<int>();
        var modes = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string? Value() => i + 1 < args.Count ? args[++i] : null;
            int? Number() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : null;
            switch (arg)
            {
                case "--help" or "-h":
                    options = options with { Help = true };
                    break;
                case "--trace":
                    options = options with { Trace = true };
                    break;
                case "--told":
                    options = options with { Told = true };
                    break;
                case "--processes":
                    foreach (string part in (Value() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n < 1)
                        {
                            return (null, "--processes needs positive integers");
                        }

                        processes.Add(n);
                    }

                    break;
                case "--mode":
                    foreach (string part in (Value() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (part is not ("none" or "redis"))
                        {
                            return (null, $"unknown mode '{part}' (none or redis)");
                        }

                        modes.Add(part);
                    }

                    break;
                case "--requests" or "--rpm" or "--tpm" or "--seed":
                    if (Number() is not { } number)
                    {
                        return (null, $"{arg} needs a positive integer");
                    }

                    options = arg switch
                    {
                        "--requests" => options with { Requests = number },
                        "--rpm" => options with { RequestsPerMinute = number },
                        "--tpm" => options with { TokensPerMinute = number },
                        _ => options with { Seed = number },
                    };
                    break;
                case "--cli" or "--markdown":
                    if (Value() is not { } path)
                    {
                        return (null, $"{arg} needs a path");
                    }

                    options = arg == "--cli" ? options with { Cli = Path.GetFullPath(path) } : options with { MarkdownFile = path };
                    break;
                default:
                    return (null, $"unknown argument '{arg}'");
            }
        }

        return (options with { Processes = processes.Count > 0 ? processes : options.Processes, Modes = modes.Count > 0 ? modes : options.Modes }, null);
    }
}
