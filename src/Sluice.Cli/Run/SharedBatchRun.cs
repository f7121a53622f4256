using System.Globalization;
using Sluice.Cli.Collect;
using Sluice.Cli.Common;
using Sluice.Redis.Batch;
using Sluice.Redis.Connection;
using Spectre.Console;
using StackExchange.Redis;

namespace Sluice.Cli.Run;

/// <summary>
/// <c>sluice run FILE --redis HOST --batch NAME</c>: one worker of a batch shared through Redis, step by step. Join the
/// batch (the first worker loads the file; a different file under the name is refused, exit 2); take lines a few at a
/// time and send them through the usual engine; record each result once in Redis; when the whole batch is done —
/// every worker's lines, a dead worker's taken over — write the results and errors files in input order. Stopped
/// early (Ctrl-C, a quota or key stop), the lines it holds go back to the others at once, exit 3.
/// </summary>
internal static class SharedBatchRun
{
    /// <summary>
    /// Lines a worker holds at most (taken and not ended): enough to keep a share of a fast budget busy, few enough
    /// that the others find lines to take and a dead worker leaves little to take over.
    /// </summary>
    public const int LinesInProgress = 256;

    /// <summary>Lines taken from Redis in one call.</summary>
    public const int TakeAtOnce = 32;

    /// <summary>How often the batch's progress is read from Redis for the progress line.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(2);

    private const string Name = "sluice run";

    public static async Task<int> ExecuteAsync(
        RunSettings settings,
        string batchName,
        RequestFile.Validation validation,
        TextWriter output,
        TextWriter error,
        bool handleSignals,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        string redis = settings.Redis!;
        string where = RedisConnection.Describe(redis);

        // 1. Redis answers (one clear line, exit 2, before anything is sent).
        RedisBatch batch;
        try
        {
            batch = await RedisBatch.ConnectAsync(new RedisBatchOptions
            {
                Configuration = redis,
                Name = batchName,
                ClaimIdleTime = settings.TakeoverAfter,
                RefreshInterval = settings.TakeoverAfter / 6,
            }, time, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            return await UsageAsync(error, $"cannot reach Redis at {where}: the batch {batchName} is kept there. Check --redis and that Redis is running, then run again").ConfigureAwait(false);
        }

        await using (batch.ConfigureAwait(false))
        {
            try
            {
                return await WorkAsync(batch, settings, batchName, validation, output, error, handleSignals, time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException or IOException && !cancellationToken.IsCancellationRequested)
            {
                // Not the run's generic line: there is no journal here, and what was recorded is safe in Redis.
                string message = $"failed: {ExitCodes.Describe(exception)}. Results recorded so far are kept in Redis and the lines not recorded go back to the other workers: fix the cause and run the same command again to go on.";
                await error.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "failed", message) : $"{Name}: {message}").ConfigureAwait(false);
                return ExitCodes.SluiceFailed;
            }
        }
    }

    private static async Task<int> WorkAsync(
        RedisBatch batch,
        RunSettings settings,
        string batchName,
        RequestFile.Validation validation,
        TextWriter output,
        TextWriter error,
        bool handleSignals,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        string where = batch.Server;

        // 2. Join the batch: load it if first, else check that it holds this very file.
        var load = await batch.LoadAsync(validation.Fingerprint, SharedBatchLines.ItemsAsync(settings.InputPath, validation, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (load == RedisBatchLoad.DifferentInput)
        {
            return await UsageAsync(error, $"the batch {batchName} in Redis at {where} holds a different file (another SHA-256 than {Path.GetFileName(settings.InputPath)}'s). " +
                "Give this file another --batch name, or delete the old batch with: sluice collect --redis HOST --batch " + batchName + " --delete").ConfigureAwait(false);
        }

        var start = await batch.GetProgressAsync(cancellationToken).ConfigureAwait(false);
        var counters = new RunCounters
        {
            Total = (int)(start.Total ?? validation.Requests),
            AlreadyDone = 0,
            BatchName = batchName,
            BatchRecordedAtStart = start.Recorded,
            BatchLeft = start.Left,
        };
        if (!settings.Json)
        {
            string joined = load == RedisBatchLoad.Loaded ? "loaded it" : "joined it";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: batch {batchName} on Redis at {where} ({counters.Total:N0} requests, {start.Left:N0} left; {joined} as {batch.Worker}) to {(settings.ApiKey is null ? "the built-in mock" : settings.BaseUrl.Host)}; Ctrl-C stops gracefully.")).ConfigureAwait(false);
        }

        // 3. Send lines until the batch is complete or this worker stops.
        var outcomes = new SharedBatchOutcomes(batch, counters, time);
        bool live = !settings.Json && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var progress = new RunProgress(counters, settings, time, output, live);
        using var signals = handleSignals ? StopSignals.Listen() : StopSignals.Ignore();
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Aborting);
        using var runner = new BatchRunner(settings, outcomes, counters, time, new Random());
        progress.Limits = runner.Limits;
        progress.Sharing = runner.Sharing;
        using var drain = signals.Stopping.Register(() =>
        {
            runner.Drain();
            error.WriteLine(settings.Json
                ? RunProgress.JsonMessage(time, "stopping", "requests in flight finish and are recorded; the lines not started go back to the other workers; Ctrl-C again stops at once")
                : $"{Name}: stopping — requests in flight finish and are recorded, the lines not started go back to the other workers; Ctrl-C again stops at once.");
        });

        using var stopShowing = new CancellationTokenSource();
        var showing = progress.ShowAsync(stopShowing.Token);
        var watching = WatchAsync(batch, counters, time, stopShowing.Token);
        bool interrupted = false;
        try
        {
            var lines = SharedBatchLines.TakeAsync(batch, outcomes, TakeAtOnce, () => signals.Received > 0 || runner.StopReason is not null || outcomes.Fault is not null, time, hardStop.Token);
            await runner.RunAsync(lines, LinesInProgress, hardStop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            await stopShowing.CancelAsync().ConfigureAwait(false);
            await showing.ConfigureAwait(false);
            await watching.ConfigureAwait(false);
        }

        await outcomes.FlushAsync().ConfigureAwait(false);
        if (outcomes.Fault is { } fault)
        {
            throw new IOException($"results could not be recorded in Redis at {where}: {fault.GetType().Name}; the lines not recorded go back to the other workers", fault);
        }

        // 4. The batch's state now; once complete, the results file, whichever worker finished last.
        var end = await batch.GetProgressAsync(CancellationToken.None).ConfigureAwait(false);
        counters.BatchLeft = end.Left;
        string? reason = runner.StopReason ?? (interrupted || signals.Received > 0 ? "interrupted" : null);
        long resultLines = 0;
        long errorLines = 0;
        if (end.IsComplete)
        {
            (resultLines, errorLines) = await BatchResultsFile.WriteAsync(batch, settings.ResultsPath, settings.ErrorsPath, CancellationToken.None).ConfigureAwait(false);
        }

        int left = (int)(end.Left ?? 0);
        await output.WriteLineAsync(progress.Summary(left, left > 0 ? reason : null, resultLines, errorLines)).ConfigureAwait(false);
        if (outcomes.SentTwice > 0 && !settings.Json)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {outcomes.SentTwice:N0} of this worker's answers came after another worker had recorded the same line (kept once)")).ConfigureAwait(false);
        }

        if (!end.IsComplete)
        {
            string message = string.Create(CultureInfo.InvariantCulture,
                $"stopped early ({reason ?? "unknown reason"}); this worker recorded {counters.DoneThisRun:N0}, the batch {batchName} has {left:N0} left. Run the same command again (here or on any machine) to go on; `sluice collect` writes the results once none are left.");
            await error.WriteLineAsync(settings.Json ? RunProgress.JsonMessage(time, "stopped", message) : $"{Name}: {message}").ConfigureAwait(false);
            return ExitCodes.StoppedEarly;
        }

        return end.Failed > 0 ? ExitCodes.SomeFailed : ExitCodes.Success;
    }

    // Reads the batch's progress every few seconds for the progress line; Redis away for a moment changes nothing.
    private static async Task WatchAsync(RedisBatch batch, RunCounters counters, TimeProvider time, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(ProgressInterval, time, stop).ConfigureAwait(false);
                counters.BatchLeft = (await batch.GetProgressAsync(stop).ConfigureAwait(false)).Left;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
            }
        }
    }

    private static async Task<int> UsageAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"{Name}: {TerminalText.Escape(message)}").ConfigureAwait(false);
        return ExitCodes.UsageError;
    }
}
