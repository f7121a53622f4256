using Microsoft.Data.Sqlite;
using Sluice.Cli.Common;
using Sluice.Mock;
using Sluice.Providers;
using Sluice.Redis.Batch;
using Sluice.Redis.Connection;
using Sluice.Spend;
using Sluice.Text;
using Spectre.Console;

namespace Sluice.Cli.Run;

/// <summary>
/// One <c>sluice run</c>, step by step: check the input, outputs, key and base URL (each failure one clear line,
/// exit 2); validate every line before anything is sent (exit 2); open the journal, refusing one made for another
/// input; start the mock if asked; send what is not done yet while showing progress; rebuild the results and errors
/// files from the journal; summarise; and choose the exit code (0, 1, or 3 when stopped early). Anything unexpected
/// on the way (a full disk, an unwritable temporary file, the input changed during the run) is one line and exit 4,
/// the journal left holding every outcome committed.
/// </summary>
internal static class RunExecution
{
    public const int AllSucceeded = ExitCodes.Success;
    public const int SomeFailed = ExitCodes.SomeFailed;
    public const int StoppedEarly = ExitCodes.StoppedEarly;

    private const string Name = "sluice run";

    public static async Task<int> ExecuteAsync(RunArguments arguments, TextWriter output, TextWriter error, bool handleSignals, CancellationToken cancellationToken)
    {
        try
        {
            return await ExecuteCoreAsync(arguments, output, error, handleSignals, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Whatever failed, the user gets one line and the exit code that says Sluice failed.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            string message = $"failed: {ExitCodes.Describe(exception)}. The journal keeps every outcome committed: fix the cause and run the same command again to resume.";
            await error.WriteLineAsync(arguments.Json ? RunProgress.JsonMessage(TimeProvider.System, "failed", message) : $"{Name}: {message}").ConfigureAwait(false);
            return ExitCodes.SluiceFailed;
        }
    }

    private static async Task<int> ExecuteCoreAsync(RunArguments arguments, TextWriter output, TextWriter error, bool handleSignals, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;

        // 0. Settings not given as options come from SLUICE_* environment variables, then from --config.
        RunArguments resolved;
        try
        {
            var config = arguments.Config is { } configPath ? RunConfigFile.Read(configPath) : RunConfigFile.Empty;
            resolved = arguments with
            {
                BaseUrl = arguments.BaseUrl ?? RunEnvironment.Text("OPENAI_BASE_URL") ?? config.BaseUrl,
                ApiKeyEnv = arguments.ApiKeyEnv ?? config.ApiKeyEnv,
                Provider = arguments.Provider ?? config.Provider ?? ProviderKind.OpenAI,
                RequestsPerMinute = arguments.RequestsPerMinute ?? RunEnvironment.PositiveInt("SLUICE_RPM") ?? config.RequestsPerMinute,
                TokensPerMinute = arguments.TokensPerMinute ?? RunEnvironment.PositiveInt("SLUICE_TPM") ?? config.TokensPerMinute,
                Concurrency = arguments.Concurrency ?? RunEnvironment.Concurrency("SLUICE_CONCURRENCY") ?? config.Concurrency,
                MaxAttempts = arguments.MaxAttempts ?? RunEnvironment.PositiveInt("SLUICE_MAX_ATTEMPTS") ?? config.MaxAttempts ?? CommandDefaults.MaxAttempts,
                Timeout = arguments.Timeout ?? RunEnvironment.Duration("SLUICE_TIMEOUT") ?? config.Timeout ?? CommandDefaults.Timeout,
                Redis = arguments.Redis ?? RunEnvironment.Text("SLUICE_REDIS") ?? config.Redis,
                Prices = arguments.Prices ?? RunEnvironment.Text("SLUICE_PRICES") ?? config.Prices,
                MaxSpend = arguments.MaxSpend ?? RunEnvironment.Amount("SLUICE_MAX_SPEND") ?? config.MaxSpend,
                // A cache named by the environment or the file is for runs of their own; a shared batch has none.
                Cache = arguments.Cache ?? (arguments.NoCache || arguments.Batch is not null ? null : RunEnvironment.Text("SLUICE_CACHE") ?? config.Cache),
                CacheMaxBytes = arguments.CacheMaxBytes ?? config.CacheMaxBytes,
                CacheMaxAge = arguments.CacheMaxAge ?? config.CacheMaxAge,
            };
        }
        catch (FormatException exception)
        {
            return await UsageAsync(error, exception.Message).ConfigureAwait(false);
        }

        arguments = resolved;
        if (arguments.Timeout is { } attemptTimeout && (attemptTimeout <= TimeSpan.Zero || attemptTimeout > TimeSpan.FromDays(1)))
        {
            return await UsageAsync(error, $"--timeout must be more than 0 and at most 1 day, not {DurationText.Format(attemptTimeout)}").ConfigureAwait(false);
        }

        if (arguments.Concurrency > 100_000)
        {
            return await UsageAsync(error, $"--concurrency must be at most 100000, not {arguments.Concurrency}").ConfigureAwait(false);
        }

        if (arguments.MaxAttempts > 1_000)
        {
            return await UsageAsync(error, $"--max-attempts must be at most 1000, not {arguments.MaxAttempts}").ConfigureAwait(false);
        }

        if (arguments.Batch is { } name)
        {
            if (arguments.Redis is null)
            {
                return await UsageAsync(error, "--batch needs --redis HOST:PORT: the batch is shared through Redis (or set SLUICE_REDIS, or \"redis\" in the config file)").ConfigureAwait(false);
            }

            if (arguments.TakeoverAfter is { } takeover && (takeover < TimeSpan.FromSeconds(1) || takeover > TimeSpan.FromDays(1)))
            {
                return await UsageAsync(error, $"--takeover-after must be from 1s to 1 day, not {DurationText.Format(takeover)}").ConfigureAwait(false);
            }

            if (!RedisBatchOptions.IsValidName(name))
            {
                return await UsageAsync(error, $"--batch: '{name}' is not a batch name; use 1 to {RedisBatchOptions.MaxNameLength} characters of A-Z a-z 0-9 . _ -").ConfigureAwait(false);
            }
        }

        // --via auto becomes live or batch-api here, saying why; a choice of the Batch API by the deadline is weighed
        // against the file's estimated cost once the file has been read (4c).
        bool viaAuto = arguments.Via == "auto";
        (arguments, string? viaChoice) = BatchApi.BatchApiCommandOptions.Choose(arguments);
        bool weighBatch = viaAuto && arguments.Via == "batch-api";
        if (viaChoice is not null && !weighBatch)
        {
            await error.WriteLineAsync(arguments.Json ? RunProgress.JsonMessage(time, "via", viaChoice) : $"{Name}: {viaChoice}").ConfigureAwait(false);
        }

        if (BatchApi.BatchApiCommandOptions.Problem(arguments) is { } viaProblem)
        {
            return await UsageAsync(error, viaProblem).ConfigureAwait(false);
        }

        if (RunSpendChecks.Problem(arguments) is { } spendProblem)
        {
            return await UsageAsync(error, spendProblem).ConfigureAwait(false);
        }

        if (arguments.Batch is null && arguments.TakeoverAfter is not null)
        {
            return await UsageAsync(error, "--takeover-after applies to a shared batch only: add --batch NAME (and --redis)").ConfigureAwait(false);
        }

        if (arguments.Redis is { } redisText)
        {
            try
            {
                RedisConnection.Parse(redisText);
            }
            catch (ArgumentException exception)
            {
                // The parser's messages show the host only, never a password.
                return await UsageAsync(error, $"--redis: {exception.Message.Replace($" (Parameter '{exception.ParamName}')", "", StringComparison.Ordinal)}").ConfigureAwait(false);
            }
        }

        var provider = arguments.Provider ?? ProviderKind.OpenAI;

        // 1. The input can be read.
        string input = arguments.Input;
        if (RunPreflight.Unreadable(input) is { } unreadable)
        {
            return await UsageAsync(error, $"cannot read {input}: {unreadable}").ConfigureAwait(false);
        }

        // 1b. The prices: the shipped table, with the user's file over it.
        PriceTable prices;
        try
        {
            prices = RunPrices.Load(arguments.Prices);
        }
        catch (PriceTableException exception)
        {
            return await UsageAsync(error, exception.Message).ConfigureAwait(false);
        }

        // 2. The outputs can be written (a dry run writes none). The cache is beside the results unless named.
        string results = arguments.Output ?? RunDefaults.DefaultResultsPath(input);
        string errors = arguments.Errors ?? RunDefaults.DefaultErrorsPath(results);
        string journalPath = arguments.Journal ?? RunDefaults.DefaultJournalPath(results);
        string? cachePath = arguments.NoCache || arguments.Batch is not null || arguments.DryRun ? null : arguments.Cache ?? RunDefaults.DefaultCachePath(results);
        if (RunPreflight.Collision(input, results, errors, journalPath, cachePath) is { } collision)
        {
            return await UsageAsync(error, collision).ConfigureAwait(false);
        }

        foreach (var (what, path) in arguments.DryRun ? [] : new[]
        {
            ("results", results), ("results' temporary file", RunJournal.TemporaryPath(results)),
            ("errors", errors), ("errors' temporary file", RunJournal.TemporaryPath(errors)),
            ("the journal", journalPath),
        })
        {
            if (RunPreflight.Unwritable(path, openExisting: !ReferenceEquals(path, journalPath)) is { } problem)
            {
                return await UsageAsync(error, $"cannot write {what} to {path}: {problem}").ConfigureAwait(false);
            }
        }

        // 3. A key and a base URL, unless the mock stands in for the provider.
        string? apiKey = null;
        Uri? baseUrl = null;
        if (!arguments.Mock && !arguments.DryRun)
        {
            string variable = arguments.ApiKeyEnv ?? RunDefaults.ApiKeyVariable(provider);
            apiKey = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrWhiteSpace(apiKey))
            {
                return await UsageAsync(error, $"no API key: set {variable} (or name another variable with --api-key-env), or try --mock to run against the built-in mock").ConfigureAwait(false);
            }

            // A key is sent in a header: a line break in it (a file read with its newline, a paste) would end the header
            // there and start another. Named by its variable, never shown.
            if (apiKey.AsSpan().IndexOfAnyInRange('\u0000', '\u001F') >= 0 || apiKey.Contains('\u007F', StringComparison.Ordinal))
            {
                return await UsageAsync(error, $"the API key in {variable} holds a line break or another control character; set it to the key alone").ConfigureAwait(false);
            }

            string? baseText = arguments.BaseUrl ?? RunDefaults.DefaultBaseUrl(provider);
            if (baseText is null)
            {
                return await UsageAsync(error, "--base-url is required for --provider azure (https://RESOURCE.openai.azure.com)").ConfigureAwait(false);
            }

            baseUrl = BaseUrl.TryParse(baseText, out string? urlProblem);
            if (baseUrl is null)
            {
                return await UsageAsync(error, $"bad base URL: {urlProblem}").ConfigureAwait(false);
            }
        }

        // 4. Every line is valid before anything is sent. The first request's tokenizer loads meanwhile.
        TokenizerWarmUp.Start(input);
        var validation = await RequestFile.ValidateAsync(input, cancellationToken).ConfigureAwait(false);
        if (validation.ProblemCount > 0)
        {
            await error.WriteLineAsync($"{Name}: {input} has {validation.ProblemCount} invalid line{(validation.ProblemCount == 1 ? "" : "s")}; nothing was sent.").ConfigureAwait(false);
            foreach (var problem in validation.Problems)
            {
                await error.WriteLineAsync($"  line {problem.LineNumber}: {problem.Reason}").ConfigureAwait(false);
            }

            if (validation.ProblemCount > validation.Problems.Count)
            {
                await error.WriteLineAsync($"  … and {validation.ProblemCount - validation.Problems.Count} more").ConfigureAwait(false);
            }

            return SluiceCommandLine.UsageError;
        }

        // 4b. A dry run prices the file and stops: nothing sent, nothing written.
        if (arguments.DryRun)
        {
            var dryBase = baseUrl ?? (RunDefaults.DefaultBaseUrl(provider) is { } known ? new Uri(known) : RunPrices.Placeholder);
            var scan = await RunCostScan.ScanAsync(input, validation, new HashSet<string>(), provider, dryBase, prices, cancellationToken).ConfigureAwait(false);
            string described = RunPrices.Describe(prices, arguments.Prices);
            await output.WriteLineAsync(arguments.Json ? DryRunReport.Json(scan, time, described) : DryRunReport.Text(scan, input, described, arguments.MaxSpend)).ConfigureAwait(false);
            return AllSucceeded;
        }

        // 4c. --via auto, the deadline allowing the Batch API: it is chosen only when it is known to cost less.
        if (weighBatch)
        {
            var scanBase = baseUrl ?? (RunDefaults.DefaultBaseUrl(provider) is { } known ? new Uri(known) : RunPrices.Placeholder);
            var scan = await RunCostScan.ScanAsync(input, validation, new HashSet<string>(), provider, scanBase, prices, cancellationToken).ConfigureAwait(false);
            (arguments, viaChoice) = BatchApi.BatchApiCommandOptions.Weigh(arguments, viaChoice!, scan.WorstCase, scan.BatchWorstCase, scan.AllPriced);
            await error.WriteLineAsync(arguments.Json ? RunProgress.JsonMessage(time, "via", viaChoice) : $"{Name}: {viaChoice}").ConfigureAwait(false);
        }

        // 5. A shared batch: its lines, results and progress live in Redis, not in a journal.
        if (arguments.Batch is { } batchName)
        {
            return await WithSettingsAsync(settings => SharedBatchRun.ExecuteAsync(settings, batchName, validation, output, error, handleSignals, time, cancellationToken)).ConfigureAwait(false);
        }

        // 5. The journal: what is done already, and proof that it belongs to this input.
        RunJournal journal;
        try
        {
            journal = RunJournal.Open(journalPath, validation.Fingerprint, Path.GetFileName(input));
        }
        catch (JournalMismatchException mismatch)
        {
            return await UsageAsync(error, $"the journal {journalPath} belongs to a different input ({mismatch.RecordedInput}, or an earlier version of this file). " +
                "Name a new journal and output with --journal and -o, or delete the journal to start over.").ConfigureAwait(false);
        }
        catch (JournalInUseException)
        {
            return await UsageAsync(error, $"the journal {journalPath} is in use by another sluice run; wait for it to finish, or give this run its own --journal and -o").ConfigureAwait(false);
        }
        catch (SqliteException exception)
        {
            return await UsageAsync(error, $"cannot open the journal {journalPath}: {exception.Message}").ConfigureAwait(false);
        }

        await using (journal.ConfigureAwait(false))
        {
            var finished = journal.ReadFinishedIds();

            // 5b. Under a spend cap every line must have a price: refused before the first request, not in the middle.
            decimal? worstCase = null;
            if (arguments.MaxSpend is not null)
            {
                var scan = await RunCostScan.ScanAsync(input, validation, finished, provider, baseUrl ?? RunPrices.Placeholder, prices, cancellationToken).ConfigureAwait(false);
                if (!scan.AllPriced)
                {
                    var (model, estimate) = scan.Models.First(m => m.Value.WorstCase is null);
                    int others = scan.Models.Count(m => m.Value.WorstCase is null) - 1;
                    return await UsageAsync(error, $"--max-spend needs a price for every line's model, and {model} (line {estimate.FirstLine}" +
                        $"{(estimate.Lines > 1 ? $" and {estimate.Lines - 1:N0} more" : "")}) has none in {RunPrices.Describe(prices, arguments.Prices)}" +
                        $"{(others > 0 ? $"; {others} more model{(others == 1 ? "" : "s")} lack one too" : "")}. Add it with --prices FILE (see docs/spend.md), or run without --max-spend").ConfigureAwait(false);
                }

                worstCase = scan.WorstCase;
            }

            var spending = new RunSpending(prices, arguments.MaxSpend, worstCase, cachePath, arguments.CacheMaxBytes ?? RunDefaults.CacheMaxBytes, arguments.CacheMaxAge ?? RunDefaults.CacheMaxAge)
            {
                EarlierSpent = arguments.MaxSpend is null ? 0 : journal.ReadSpent(),
            };
            if (spending.MaxSpend is { } cap && spending.EarlierSpent >= cap && finished.Count < validation.Requests)
            {
                // The cap is the batch's: earlier runs spent it all, so this one sends nothing.
                int left = validation.Requests - finished.Count;
                string message = $"stopped early (the spend cap {SpendAmountText.Format(cap)} is reached: earlier runs of this batch spent {SpendAmountText.Format(spending.EarlierSpent)}; {left:N0} lines left). " +
                    "Run again with a higher --max-spend (or without it) to finish them; nothing is sent twice.";
                await error.WriteLineAsync(arguments.Json ? RunProgress.JsonMessage(time, "stopped", message) : $"{Name}: {message}").ConfigureAwait(false);
                return StoppedEarly;
            }

            // 5c. Through the provider's Batch API instead of live calls: the same journal and outputs, another backend.
            if (arguments.Via == "batch-api")
            {
                var batchOptions = new BatchApi.BatchApiOptions(arguments.PollInterval ?? BatchApi.BatchApiOptions.DefaultPollInterval, arguments.MaxEnqueuedTokens);
                // The cap holds each batch's worst case at batch prices before it is submitted (see BatchSpendGate).
                var batchSpend = spending.MaxSpend is { } batchCap ? new BatchApi.BatchSpendGate(batchCap, spending.EarlierSpent, time) : null;
                return await WithSettingsAsync(settings => BatchApi.BatchApiRun.ExecuteAsync(settings, batchOptions, journal, finished, validation, prices, batchSpend, output, error, handleSignals, time, cancellationToken)).ConfigureAwait(false);
            }

            return await WithSettingsAsync(settings => SendAsync(settings, spending, journal, finished, validation, output, error, handleSignals, time, cancellationToken)).ConfigureAwait(false);
        }

        // Steps 6 and on: the provider answers, the mock runs if asked, and the settings are complete.
        async Task<int> WithSettingsAsync(Func<RunSettings, Task<int>> send)
        {
            // 6. The provider answers at all (a typo in --base-url should not become hours of retries).
            if (baseUrl is not null && await RunPreflight.UnreachableAsync(baseUrl, time, cancellationToken).ConfigureAwait(false) is { } unreachable)
            {
                return await UsageAsync(error, $"cannot reach {baseUrl.Host}:{baseUrl.Port}: {unreachable}").ConfigureAwait(false);
            }

            MockServer? mock = null;
            if (arguments.Mock)
            {
                mock = await MockServer.StartAsync(
                    new MockOptions
                    {
                        Limits = new MockLimits { RequestsPerMinute = RunDefaults.MockRequestsPerMinute },
                        Latency = RunDefaults.MockLatency,
                        LatencyJitter = RunDefaults.MockJitter,
                        AcceptAnyModel = true,
                    },
                    cancellationToken).ConfigureAwait(false);
                baseUrl = mock.BaseUrl;
            }

            try
            {
                var settings = new RunSettings
                {
                    InputPath = input,
                    ResultsPath = results,
                    ErrorsPath = errors,
                    JournalPath = journalPath,
                    BaseUrl = baseUrl!,
                    ApiKey = apiKey,
                    Provider = provider,
                    RequestsPerMinute = arguments.RequestsPerMinute,
                    TokensPerMinute = arguments.TokensPerMinute,
                    Budgets = arguments.Budgets,
                    Concurrency = arguments.Concurrency ?? CommandDefaults.AutoConcurrency,
                    AdaptiveConcurrency = arguments.Concurrency is null,
                    MaxAttempts = arguments.MaxAttempts ?? CommandDefaults.MaxAttempts,
                    Timeout = arguments.Timeout ?? CommandDefaults.Timeout,
                    Redis = arguments.Redis,
                    TakeoverAfter = arguments.TakeoverAfter ?? RunDefaults.TakeoverAfter,
                    Json = arguments.Json,
                    PricesPath = arguments.Prices,
                    MaxSpend = arguments.MaxSpend,
                    CachePath = cachePath,
                    CacheMaxBytes = arguments.CacheMaxBytes ?? RunDefaults.CacheMaxBytes,
                    CacheMaxAge = arguments.CacheMaxAge ?? RunDefaults.CacheMaxAge,
                };
                return await send(settings).ConfigureAwait(false);
            }
            finally
            {
                if (mock is not null)
                {
                    await mock.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    // Steps 7 to 9: send, rebuild the outputs, summarise.
    private static async Task<int> SendAsync(
        RunSettings settings,
        RunSpending spending,
        RunJournal journal,
        HashSet<string> finished,
        RequestFile.Validation validation,
        TextWriter output,
        TextWriter error,
        bool handleSignals,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        int total = validation.Requests;
        var counters = new RunCounters { Total = total, AlreadyDone = finished.Count, SpendCap = spending.MaxSpend, EarlierSpent = spending.EarlierSpent, EstimatedWorstCase = spending.WorstCase };
        journal.OnCommitted = counters.Committed;
        bool live = !settings.Json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var progress = new RunProgress(counters, settings, time, output, live);
        if (!settings.Json)
        {
            string resume = finished.Count > 0 ? $", resuming: {finished.Count:N0} already done" : "";
            await output.WriteLineAsync($"{Name}: {total:N0} requests to {(settings.ApiKey is null ? "the built-in mock" : settings.BaseUrl.Host)}{resume}; Ctrl-C stops gracefully.").ConfigureAwait(false);
        }

        using var signals = handleSignals ? StopSignals.Listen() : StopSignals.Ignore();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Aborting);
        using var cache = spending.OpenCache(error, settings.Json, time);
        var cap = spending.MaxSpend is { } limit ? new SpendCap(limit - spending.EarlierSpent, SpendWindow.Total, time) { Name = "--max-spend" } : null;
        using var runner = new BatchRunner(settings, journal, counters, time, new Random(), prices: spending.Prices, cap: cap, cache: cache);
        progress.Limits = runner.Limits;
        progress.Sharing = runner.Sharing;
        using var draining = signals.Stopping.Register(() =>
        {
            runner.Drain();
            error.WriteLine(settings.Json
                ? RunProgress.JsonMessage(time, "stopping", "requests in flight finish and are journalled; Ctrl-C again stops at once")
                : $"{Name}: stopping — requests in flight finish and are journalled; Ctrl-C again stops at once.");
        });

        using var stopProgress = new CancellationTokenSource();
        var showing = progress.ShowAsync(stopProgress.Token);
        bool interrupted = false;
        try
        {
            await runner.RunAsync(finished, validation, hardStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The input changed under the run, or reading it failed: what was journalled is still made into outputs,
            // then the failure is the run's answer (exit 4).
            await RebuildQuietlyAsync(journal, settings).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await stopProgress.CancelAsync().ConfigureAwait(false);
            await showing.ConfigureAwait(false);
        }

        // An outcome that could not be made durable is not done: the journal's failure is Sluice's, not the run's.
        if (journal.Fault is { } fault)
        {
            await RebuildQuietlyAsync(journal, settings).ConfigureAwait(false);
            throw new IOException($"the journal {settings.JournalPath} could not be written: {fault.Message}", fault);
        }

        // Whatever happened, the outputs hold exactly what the journal holds.
        var (resultLines, errorLines) = await journal.WriteOutputsAsync(settings.ResultsPath, settings.ErrorsPath, CancellationToken.None).ConfigureAwait(false);
        int notDone = (int)Math.Max(0, total - resultLines);
        string? reason = runner.StopReason ?? (interrupted || signals.Received > 0 ? "interrupted" : null);
        if (runner.CapStop is { } capStop)
        {
            reason = spending.CapStopReason(capStop, notDone);
        }

        progress.CacheFile = cache is null ? null : settings.CachePath;
        progress.CacheUnusable = cache?.Statistics.DisabledReason is not null;
        progress.Unpriced = runner.Unpriced;
        await output.WriteLineAsync(progress.Summary(notDone, notDone > 0 ? reason : null, resultLines, errorLines)).ConfigureAwait(false);
        if (runner.FirstFailure is { } firstFailure && !settings.Json)
        {
            await output.WriteLineAsync($"  failed for good: see {settings.ErrorsPath}; the first was {firstFailure}").ConfigureAwait(false);
        }
        if (notDone > 0)
        {
            string message = runner.CapStop is not null
                ? $"stopped early ({reason}). Run again with a higher --max-spend (or without it) to finish them; nothing is sent twice."
                : $"stopped early ({reason ?? "unknown reason"}); {notDone:N0} requests not done. Run the same command again to resume.";
            await error.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "stopped", message) : $"{Name}: {message}").ConfigureAwait(false);
            return StoppedEarly;
        }

        return errorLines > 0 ? SomeFailed : AllSucceeded;
    }

    // Best effort on the way out of a failure: the failure itself is what gets reported.
    private static async Task RebuildQuietlyAsync(RunJournal journal, RunSettings settings)
    {
        try
        {
            await journal.WriteOutputsAsync(settings.ResultsPath, settings.ErrorsPath, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A second failure would hide the first.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private static async Task<int> UsageAsync(TextWriter error, string message)
    {
        // Messages quote paths, a journal's recorded input name and parsers' wording: one line, whatever they hold.
        await error.WriteLineAsync($"{Name}: {TerminalText.Escape(message)}").ConfigureAwait(false);
        return SluiceCommandLine.UsageError;
    }
}
