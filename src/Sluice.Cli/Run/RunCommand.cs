using System.CommandLine;
using Sluice.Cli.Common;
using Sluice.Providers;

namespace Sluice.Cli.Run;

/// <summary>
/// <c>sluice run</c>: sends every request of an OpenAI Batch API file as fast as the budget allows, journals each
/// final outcome, and writes the results. The options are the contract in DESIGN.md; docs/run.md describes them.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("REQUESTS")
        {
            Description = "The batch file: UTF-8, OpenAI Batch API request lines {\"custom_id\",\"method\":\"POST\",\"url\",\"body\"}; custom_id any text up to 512 characters without control characters.",
        };
        var output = new Option<string?>("--output", "-o")
        {
            Description = "Results file, one OpenAI Batch API output line per custom_id (default: REQUESTS.results.jsonl next to the input).",
            HelpName = "RESULTS.jsonl",
        };
        var errors = new Option<string?>("--errors")
        {
            Description = "Where the lines of jobs that failed for good are also written (default: RESULTS.errors.jsonl).",
            HelpName = "ERRORS.jsonl",
        };
        var baseUrl = new Option<string?>("--base-url")
        {
            Description = "The API's base URL, with or without /v1 (default: $OPENAI_BASE_URL, else https://api.openai.com; https://api.anthropic.com for --provider anthropic).",
            HelpName = "URL",
        };
        var apiKeyEnv = new Option<string?>("--api-key-env")
        {
            Description = "The environment variable holding the API key (default: OPENAI_API_KEY; ANTHROPIC_API_KEY or AZURE_OPENAI_API_KEY for those providers). The key itself is never logged or journalled.",
            HelpName = "NAME",
        };
        var provider = new Option<ProviderKind?>("--provider")
        {
            Description = "How answers are classified and keys sent: openai, azure, anthropic or compatible (default: openai).",
            HelpName = "openai|azure|anthropic|compatible",
            CustomParser = CommonOptions.ParseProvider,
        };
        var rpm = OptionKinds.PositiveInt("--rpm", "Request budget per minute (default: $SLUICE_RPM, else learned: from the provider's rate-limit headers, or without them from the spacing of 429s). A provider's stated budget wins over a higher one given here.");
        var tpm = OptionKinds.PositiveInt("--tpm", "Token budget per minute, prompt estimate plus output cap, settled with actual usage (default: $SLUICE_TPM, else none).");
        var budgets = ExtraBudgets.Options();
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = $"Requests in flight at most, or auto: learned from the answers — starts at 8, grows while they succeed, backs off on 503, timeouts and 429s where no rate is known — up to {CommandDefaults.AutoConcurrency}, and raised to what a binding budget needs, rate × latency × 1.5 (default: $SLUICE_CONCURRENCY, else auto).",
            HelpName = "N|auto",
            CustomParser = CommonOptions.ParseConcurrency,
        };
        var maxAttempts = OptionKinds.PositiveInt("--max-attempts", $"Tries per request for transient failures (5xx, resets, timeouts, malformed JSON bodies); 429s do not count (default: $SLUICE_MAX_ATTEMPTS, else {CommandDefaults.MaxAttempts}).");
        var timeout = OptionKinds.Duration("--timeout", CommandDefaults.Timeout, "How long one try may take before it is abandoned and retried; $SLUICE_TIMEOUT when not given.");
        var journal = new Option<string?>("--journal")
        {
            Description = "The SQLite journal that makes the run resumable (default: RESULTS.jsonl.journal). Keep it until the run is complete.",
            HelpName = "FILE",
        };
        var mock = new Option<bool>("--mock")
        {
            Description = $"Run against the built-in mock, started in-process ({RunDefaults.MockRequestsPerMinute} rpm, stated in its headers, which Sluice learns; 300±200 ms per answer): no API key, nothing leaves the machine.",
        };
        var config = new Option<string?>("--config")
        {
            Description = "A JSON file of settings (base_url, api_key_env, provider, rpm, tpm, concurrency, max_attempts, timeout); options and SLUICE_* environment variables win over it.",
            HelpName = "FILE",
        };
        var redis = new Option<string?>("--redis")
        {
            Description = "Share this run's budgets through Redis with every other sluice run, proxy or service on the same key (HOST:PORT, a StackExchange.Redis configuration string or a redis:// URL; default: $SLUICE_REDIS, else the config file's \"redis\"). Never shown in logs or errors beyond host and port.",
            HelpName = "HOST:PORT",
        };
        var batch = new Option<string?>("--batch")
        {
            Description = "With --redis: join the shared batch NAME, worked on by every sluice run started with the same file, --redis and --batch, on any machine. The first loads the file into Redis; each takes lines, sends them, and records every result once in Redis; a worker that dies (even kill -9) has its lines finished by the others after --takeover-after. Each worker writes -o once the whole batch is done; `sluice collect` writes it from anywhere. NAME: 1 to 100 of A-Z a-z 0-9 . _ -",
            HelpName = "NAME",
        };
        var takeover = OptionKinds.Duration("--takeover-after", RunDefaults.TakeoverAfter, "With --batch: how long the lines of a worker that stopped renewing them (killed, lost its machine or network) wait before the other workers take them over. A live worker renews its lines every sixth of this, however slow its requests. At least 1s.");
        var prices = new Option<string?>("--prices")
        {
            Description = "A JSON price file (USD per million tokens, the format of the table Sluice ships) whose models add to or replace the shipped prices, e.g. --prices my-prices.json (default: $SLUICE_PRICES, else the config file's \"prices\"; the shipped table alone without it).",
            HelpName = "FILE",
        };
        var maxSpend = OptionKinds.Amount("--max-spend", "Never let this run's cost pass this many US dollars, e.g. --max-spend 5.00: each request reserves its worst case (prompt estimate + output cap, priced) before it is sent and settles to its real usage; when the next would pass the cap the run stops taking lines, lets those in flight finish, and exits 3. Run again with a higher cap (or none) to finish the rest; nothing is sent twice. With --via batch-api each batch reserves its worst case at batch prices before it is submitted, and settles to its lines' real cost when its results are in. Every line's model needs a price (see --prices) (default: $SLUICE_MAX_SPEND, else the config file's \"max_spend\"; no cap).");
        var dryRun = new Option<bool>("--dry-run")
        {
            Description = "Check every line and estimate, per model, the lines, input tokens, output cap and worst-case cost, then stop: nothing is sent and no results or journal are written, e.g. sluice run posts.jsonl --dry-run. No API key needed.",
        };
        var cache = new Option<string?>("--cache")
        {
            Description = $"The response cache (SQLite): an answer stored there is used instead of sending the same request again (same provider, endpoint and body; user and metadata fields aside), e.g. --cache ~/.cache/sluice.db to share one across folders (default: $SLUICE_CACHE, else the config file's \"cache\", else {RunDefaults.CacheFileName} beside the results, shared by every run writing results there).",
            HelpName = "FILE",
        };
        var noCache = new Option<bool>("--no-cache")
        {
            Description = "Send every request, neither reading nor writing the response cache.",
        };
        var cacheMaxSize = OptionKinds.ByteSize("--cache-max-size", RunDefaults.CacheMaxBytes, "The most the response cache may hold on disk; the oldest entries go first, e.g. --cache-max-size 500MB.");
        var cacheMaxAge = OptionKinds.LongDuration("--cache-max-age", RunDefaults.CacheMaxAge, "How long a cached answer is used; older ones are sent again, e.g. --cache-max-age 7d.");
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text, or json: progress and summary as JSON lines, without the live display.",
            HelpName = "text|json",
            DefaultValueFactory = _ => "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var (via, pollInterval, maxEnqueuedTokens, deadline) = BatchApi.BatchApiCommandOptions.Create();

        var command = new Command(
            "run",
            "Send every request of a batch file (OpenAI Batch API format) as fast as the budget allows, and write one " +
            "result line per custom_id. Durable: every outcome is journalled, so after Ctrl-C, a crash or a quota stop " +
            "the same command resumes where it stopped. Exit codes: 0 all succeeded, 1 some failed for good, " +
            "2 usage or input error (nothing sent), 3 stopped early (run it again to resume), 4 Sluice itself failed " +
            "(a full disk, an unwritable file, the input changed): one line says what; the journal is kept, so run it again to resume." +
            "\n\nOne batch on several machines (each has the file; Redis is reachable from all):\n" +
            "  machine-1$ sluice run posts.jsonl --redis 10.0.0.5:6379 --batch posts-0612 -o results.jsonl\n" +
            "  machine-2$ sluice run posts.jsonl --redis 10.0.0.5:6379 --batch posts-0612 -o results.jsonl\n" +
            "  anywhere$  sluice collect --redis 10.0.0.5:6379 --batch posts-0612 -o results.jsonl\n" +
            "Budgets (--rpm, --tpm, concurrency) are shared by all the workers, not multiplied by them." +
            "\n\nWhat it costs, and a cached rerun:\n" +
            "  sluice run posts.jsonl --dry-run             # lines, tokens and worst-case cost per model; sends nothing\n" +
            "  sluice run posts.jsonl --max-spend 5.00      # stops before $5 (exit 3); rerun with a higher cap to finish\n" +
            "  sluice run posts-v2.jsonl -o v2.jsonl        # unchanged lines are answered from sluice-cache.db, not paid again" +
            "\n\nHalf price when 24 hours is soon enough (OpenAI's Batch API; docs/batch-api.md):\n" +
            "  sluice run posts.jsonl --via batch-api       # same journal and results; kill it and rerun, no batch is sent twice")
        {
            input, output, errors, baseUrl, apiKeyEnv, provider, rpm, tpm, concurrency, maxAttempts, timeout, journal, mock, config, redis, batch, takeover, logFormat,
            prices, maxSpend, dryRun, cache, noCache, cacheMaxSize, cacheMaxAge, via, pollInterval, maxEnqueuedTokens, deadline,
        };
        foreach (var option in budgets)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var arguments = new RunArguments
            {
                Input = parseResult.GetValue(input)!,
                Output = parseResult.GetValue(output),
                Errors = parseResult.GetValue(errors),
                BaseUrl = parseResult.GetValue(baseUrl),
                ApiKeyEnv = parseResult.GetValue(apiKeyEnv),
                Provider = parseResult.GetValue(provider),
                Config = parseResult.GetValue(config),
                RequestsPerMinute = parseResult.GetValue(rpm),
                TokensPerMinute = parseResult.GetValue(tpm),
                Budgets = ExtraBudgets.Read(parseResult, budgets),
                Concurrency = parseResult.GetValue(concurrency),
                MaxAttempts = parseResult.GetValue(maxAttempts),
                Timeout = parseResult.GetValue(timeout),
                Journal = parseResult.GetValue(journal),
                Mock = parseResult.GetValue(mock),
                Redis = parseResult.GetValue(redis),
                Batch = parseResult.GetValue(batch),
                TakeoverAfter = parseResult.GetValue(takeover),
                Json = parseResult.GetValue(logFormat) == "json",
                Prices = parseResult.GetValue(prices),
                MaxSpend = parseResult.GetValue(maxSpend),
                DryRun = parseResult.GetValue(dryRun),
                Cache = parseResult.GetValue(cache),
                NoCache = parseResult.GetValue(noCache),
                CacheMaxBytes = parseResult.GetValue(cacheMaxSize),
                CacheMaxAge = parseResult.GetValue(cacheMaxAge),
                Via = parseResult.GetValue(via) ?? "live",
                PollInterval = parseResult.GetValue(pollInterval),
                MaxEnqueuedTokens = parseResult.GetValue(maxEnqueuedTokens),
                Deadline = parseResult.GetValue(deadline),
            };
            var configuration = parseResult.InvocationConfiguration;
            return await RunExecution.ExecuteAsync(arguments, configuration.Output, configuration.Error, handleSignals: true, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}

/// <summary>The options of one <c>sluice run</c> as given, before defaults and checks.</summary>
internal sealed record RunArguments
{
    public required string Input { get; init; }

    public string? Output { get; init; }

    public string? Errors { get; init; }

    public string? BaseUrl { get; init; }

    public string? ApiKeyEnv { get; init; }

    public ProviderKind? Provider { get; init; }

    public string? Config { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    /// <summary><c>--input-tpm</c>, <c>--output-tpm</c>, <c>--rpd</c>, <c>--tpd</c>.</summary>
    public ExtraBudgets Budgets { get; init; } = ExtraBudgets.None;

    public int? Concurrency { get; init; }

    public int? MaxAttempts { get; init; }

    public TimeSpan? Timeout { get; init; }

    public string? Journal { get; init; }

    public bool Mock { get; init; }

    /// <summary>Where Redis is (<c>--redis</c>); may hold a password, never shown.</summary>
    public string? Redis { get; init; }

    /// <summary>The shared batch's name (<c>--batch</c>, needs <see cref="Redis"/>).</summary>
    public string? Batch { get; init; }

    /// <summary><c>--takeover-after</c>: how long a dead worker's lines wait before others take them.</summary>
    public TimeSpan? TakeoverAfter { get; init; }

    public bool Json { get; init; }

    /// <summary><c>--prices</c>: a price file over the shipped table.</summary>
    public string? Prices { get; init; }

    /// <summary><c>--max-spend</c>: the run's cost cap in US dollars.</summary>
    public decimal? MaxSpend { get; init; }

    /// <summary><c>--dry-run</c>: validate and estimate, send nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary><c>--cache</c>: the response cache's file.</summary>
    public string? Cache { get; init; }

    /// <summary><c>--no-cache</c>: neither read nor write the response cache.</summary>
    public bool NoCache { get; init; }

    /// <summary><c>--cache-max-size</c>, in bytes.</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary><c>--cache-max-age</c>.</summary>
    public TimeSpan? CacheMaxAge { get; init; }

    /// <summary><c>--via</c>: <c>live</c> calls, or the provider's <c>batch-api</c>.</summary>
    public string Via { get; init; } = "live";

    /// <summary><c>--poll-interval</c>: the first wait between polls of the provider's batches.</summary>
    public TimeSpan? PollInterval { get; init; }

    /// <summary><c>--max-enqueued-tokens</c>: the account's enqueued-token limit per model.</summary>
    public long? MaxEnqueuedTokens { get; init; }

    /// <summary><c>--deadline</c>: when the answers are needed, for <c>--via auto</c>.</summary>
    public TimeSpan? Deadline { get; init; }

    // A record's generated ToString would show Redis's configuration, which may hold a password.
    public override string ToString() => $"sluice run {Input}";
}
