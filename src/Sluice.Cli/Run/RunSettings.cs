using Sluice.Cli.Common;
using Sluice.Providers;

namespace Sluice.Cli.Run;

/// <summary>Everything one <c>sluice run</c> needs, resolved from options and environment and checked.</summary>
internal sealed record RunSettings
{
    public required string InputPath { get; init; }

    public required string ResultsPath { get; init; }

    public required string ErrorsPath { get; init; }

    public required string JournalPath { get; init; }

    public required Uri BaseUrl { get; init; }

    /// <summary>The credential; never logged, never journalled. Null with <c>--mock</c>.</summary>
    public string? ApiKey { get; init; }

    public ProviderKind Provider { get; init; } = ProviderKind.OpenAI;

    public int? RequestsPerMinute { get; init; }

    public long? TokensPerMinute { get; init; }

    /// <summary>Input and output tokens per minute, requests and tokens per day.</summary>
    public ExtraBudgets Budgets { get; init; } = ExtraBudgets.None;

    /// <summary>Requests in flight at most; with <see cref="AdaptiveConcurrency"/>, the ceiling of the learned limit.</summary>
    public int Concurrency { get; init; } = CommandDefaults.AutoConcurrency;

    /// <summary><c>--concurrency auto</c>: the limit is learned from the answers (starts low, grows, backs off).</summary>
    public bool AdaptiveConcurrency { get; init; } = true;

    public int MaxAttempts { get; init; } = CommandDefaults.MaxAttempts;

    public TimeSpan Timeout { get; init; } = CommandDefaults.Timeout;

    /// <summary>Where Redis is, when budgets are shared through it; may hold a password, so never shown (see <c>RedisConnection.Describe</c>).</summary>
    public string? Redis { get; init; }

    /// <summary>With <c>--batch</c>: how long a dead worker's lines wait before the others take them over.</summary>
    public TimeSpan TakeoverAfter { get; init; } = RunDefaults.TakeoverAfter;

    public bool Json { get; init; }

    /// <summary><c>--prices</c>: a price file over the shipped table; null for the shipped table alone.</summary>
    public string? PricesPath { get; init; }

    /// <summary><c>--max-spend</c>: the run's cost cap in US dollars; null for none.</summary>
    public decimal? MaxSpend { get; init; }

    /// <summary>The response cache's file; null with <c>--no-cache</c>.</summary>
    public string? CachePath { get; init; }

    /// <summary>The most the response cache may hold on disk.</summary>
    public long CacheMaxBytes { get; init; } = RunDefaults.CacheMaxBytes;

    /// <summary>How long a cached answer is used.</summary>
    public TimeSpan CacheMaxAge { get; init; } = RunDefaults.CacheMaxAge;

    // The key must not reach logs through a record's generated ToString.
    public override string ToString() => $"sluice run {InputPath} -> {ResultsPath}";
}

/// <summary>Defaults of <c>sluice run</c> alone, shared by help and behaviour; those the proxy shares are <see cref="CommandDefaults"/>.</summary>
internal static class RunDefaults
{
    /// <summary>The in-process mock's demo limits for <c>--mock</c>.</summary>
    public const int MockRequestsPerMinute = 1_500;

    public static readonly TimeSpan MockLatency = TimeSpan.FromMilliseconds(300);

    public static readonly TimeSpan MockJitter = TimeSpan.FromMilliseconds(200);

    /// <summary><c>--takeover-after</c>'s default: a minute without renewal, and a dead worker's lines go to the others.</summary>
    public static readonly TimeSpan TakeoverAfter = TimeSpan.FromMinutes(1);

    /// <summary>The response cache's file name beside the results: one cache for every run that writes results there.</summary>
    public const string CacheFileName = "sluice-cache.db";

    /// <summary><c>--cache-max-size</c>'s default: 1 GiB.</summary>
    public const long CacheMaxBytes = 1L << 30;

    /// <summary><c>--cache-max-age</c>'s default: 30 days.</summary>
    public static readonly TimeSpan CacheMaxAge = TimeSpan.FromDays(30);

    public static string DefaultCachePath(string resultsPath) =>
        Path.Combine(Path.GetDirectoryName(resultsPath) ?? "", CacheFileName);

    public static string DefaultResultsPath(string inputPath)
    {
        string directory = Path.GetDirectoryName(inputPath) ?? "";
        return Path.Combine(directory, Path.GetFileNameWithoutExtension(inputPath) + ".results.jsonl");
    }

    public static string DefaultErrorsPath(string resultsPath)
    {
        string directory = Path.GetDirectoryName(resultsPath) ?? "";
        string name = Path.GetFileName(resultsPath);
        string stem = name.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? name[..^".jsonl".Length] : name;
        return Path.Combine(directory, stem + ".errors.jsonl");
    }

    public static string DefaultJournalPath(string resultsPath) => resultsPath + ".journal";

    public static string ApiKeyVariable(ProviderKind provider) => provider switch
    {
        ProviderKind.Anthropic => "ANTHROPIC_API_KEY",
        ProviderKind.AzureOpenAI => "AZURE_OPENAI_API_KEY",
        _ => "OPENAI_API_KEY",
    };

    public static string? DefaultBaseUrl(ProviderKind provider) => provider switch
    {
        ProviderKind.Anthropic => "https://api.anthropic.com",
        ProviderKind.AzureOpenAI => null,
        _ => "https://api.openai.com",
    };
}
