using System.Globalization;

namespace Sluice.FairBench;

/// <summary>The command line.</summary>
internal sealed record BenchOptions
{
    public const string Usage = """
        dotnet run -c Release --project bench/fairness -- [--runs LIST|all] [--seconds 60] [--rpm 600] [--latency-ms 200]
            [--backlog 10000] [--workers 40] [--tpm 120000] [--nginx-burst 10] [--max-queue 12000] [--cli PATH] [--markdown FILE]

        runs (comma-separated, or all; default: share:mock,share:nginx,share:mock-tpm,wait:mock:fifo,wait:mock:priority,wait:nginx:priority,wait:nginx:bottleneck):
          share:mock, share:nginx           tenants app (weight 3) and batch (weight 1) saturating one request budget
          share:mock-tpm                    the same under a token budget (--tpm, default 120000), batch's requests ~6x the app's tokens; shares of tokens
          share:mock-tpm-same               the control: both tenants send the large requests
          wait:UPSTREAM:fifo                tenants off: one anonymous client, a 10,000-request backlog, then 1 request/s (seeded point in each second)
          wait:UPSTREAM:fair                the same with two tenants of equal weight and priority
          wait:UPSTREAM:priority            the interactive tenant at priority 1
          wait:nginx:bottleneck             the peer: npm bottleneck told the rate, priorities 0 and 9, maxConcurrent rate × latency + 1, no proxy
          wait:nginx:bottleneck-uncapped    the same with no maxConcurrent (every job registered at once: priorities cannot act)
        UPSTREAM is mock (sluice mock --rpm) or nginx (limit_req at the same rate, burst --nginx-burst nodelay, in front of an unlimited mock).
        Build the CLI first: dotnet build src/Sluice.Cli -c Release -nologo -v quiet
        """;

    private static readonly string[] DefaultRuns = ["share:mock", "share:nginx", "share:mock-tpm", "wait:mock:fifo", "wait:mock:priority", "wait:nginx:priority", "wait:nginx:bottleneck"];
    private static readonly string[] AllRuns =
    [
        "share:mock", "share:nginx", "share:mock-tpm", "share:mock-tpm-same", "wait:mock:fifo", "wait:mock:fair", "wait:mock:priority",
        "wait:nginx:fifo", "wait:nginx:fair", "wait:nginx:priority", "wait:nginx:bottleneck", "wait:nginx:bottleneck-uncapped",
    ];

    public IReadOnlyList<string> Runs { get; init; } = DefaultRuns;

    public int Seconds { get; init; } = 60;

    public int RequestsPerMinute { get; init; } = 600;

    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(200);

    public int Backlog { get; init; } = 10_000;

    public int Workers { get; init; } = 40;

    public int TokensPerMinute { get; init; } = 120_000;

    public int NginxBurst { get; init; } = 10;

    public int MaxQueue { get; init; } = 12_000;

    public string? Cli { get; init; }

    public string? MarkdownFile { get; init; }

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Number() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name} must be a whole number above 0");
            options = name switch
            {
                "--runs" => options with { Runs = Value() is "all" ? AllRuns : args[i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seconds" => options with { Seconds = Number() },
                "--rpm" => options with { RequestsPerMinute = Number() },
                "--latency-ms" => options with { Latency = TimeSpan.FromMilliseconds(Number()) },
                "--backlog" => options with { Backlog = Number() },
                "--workers" => options with { Workers = Number() },
                "--tpm" => options with { TokensPerMinute = Number() },
                "--nginx-burst" => options with { NginxBurst = Number() },
                "--max-queue" => options with { MaxQueue = Number() },
                "--cli" => options with { Cli = Value() },
                "--markdown" => options with { MarkdownFile = Value() },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        var unknown = options.Runs.Where(r => !AllRuns.Contains(r)).ToList();
        return unknown.Count == 0 ? options : throw new ArgumentException($"unknown run {string.Join(", ", unknown)}");
    }
}
