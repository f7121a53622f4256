using System.CommandLine;
using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Cli.Run;
using Sluice.Redis.Batch;
using Sluice.Redis.Connection;
using StackExchange.Redis;

namespace Sluice.Cli.Collect;

/// <summary>
/// <c>sluice collect</c>: writes the results file of a batch shared through Redis (<c>sluice run --batch</c>), from
/// any machine, once every line has its result: one line per custom_id, in input order, as <c>sluice run</c> writes it.
/// Refuses while lines are unfinished, saying how many. docs/scale-out.md ("A batch across machines") describes it.
/// </summary>
internal static class CollectCommand
{
    private const string Name = "sluice collect";

    public static Command Create()
    {
        var redis = new Option<string?>("--redis")
        {
            Description = "Where the batch is: HOST:PORT, a StackExchange.Redis configuration string or a redis:// URL (default: $SLUICE_REDIS).",
            HelpName = "HOST:PORT",
        };
        var batch = new Option<string>("--batch")
        {
            Description = "The batch's name, as given to sluice run --batch.",
            HelpName = "NAME",
            Required = true,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "The results file to write: one OpenAI Batch API output line per custom_id, in input order.",
            HelpName = "RESULTS.jsonl",
            Required = true,
        };
        var errors = new Option<string?>("--errors")
        {
            Description = "Where the lines of requests that failed for good are also written (default: RESULTS.errors.jsonl).",
            HelpName = "ERRORS.jsonl",
        };
        var delete = new Option<bool>("--delete")
        {
            Description = "Delete the batch from Redis once the files are written (its lines, results and state). Without it the batch's keys expire 7 days after their last use.",
        };

        var command = new Command(
            "collect",
            "Write the results file of a batch shared through Redis (sluice run FILE --redis HOST --batch NAME) from any machine: " +
            "one line per custom_id, in input order, the same format as sluice run. Refuses while lines are unfinished, saying how many. " +
            "Exit codes: 0 written, every request succeeded; 1 written, some failed for good; 2 usage error, no such batch, or Redis unreachable; " +
            "3 lines still unfinished (wait for the workers, or start one, and collect again); 4 Sluice itself failed." +
            "\n\nExample: sluice collect --redis 10.0.0.5:6379 --batch posts-0612 -o results.jsonl --delete")
        {
            redis, batch, output, errors, delete,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var configuration = parseResult.InvocationConfiguration;
            return await ExecuteAsync(
                parseResult.GetValue(redis),
                parseResult.GetValue(batch)!,
                parseResult.GetValue(output)!,
                parseResult.GetValue(errors),
                parseResult.GetValue(delete),
                configuration.Output,
                configuration.Error,
                cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    public static async Task<int> ExecuteAsync(string? redis, string batchName, string results, string? errors, bool delete, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        redis ??= RunEnvironment.Text("SLUICE_REDIS");
        if (redis is null)
        {
            return await UsageAsync(error, "--redis HOST:PORT is required (or set SLUICE_REDIS): the batch is kept there").ConfigureAwait(false);
        }

        if (!RedisBatchOptions.IsValidName(batchName))
        {
            return await UsageAsync(error, $"--batch: '{batchName}' is not a batch name; use 1 to {RedisBatchOptions.MaxNameLength} characters of A-Z a-z 0-9 . _ -").ConfigureAwait(false);
        }

        try
        {
            RedisConnection.Parse(redis);
        }
        catch (ArgumentException exception)
        {
            return await UsageAsync(error, $"--redis: {exception.Message.Replace($" (Parameter '{exception.ParamName}')", "", StringComparison.Ordinal)}").ConfigureAwait(false);
        }

        errors ??= RunDefaults.DefaultErrorsPath(results);
        foreach (var (what, path) in new[] { ("results", results), ("errors", errors) })
        {
            if (RunPreflight.Unwritable(path, openExisting: true) is { } problem)
            {
                return await UsageAsync(error, $"cannot write {what} to {path}: {problem}").ConfigureAwait(false);
            }
        }

        if (string.Equals(Path.GetFullPath(results), Path.GetFullPath(errors), StringComparison.Ordinal))
        {
            return await UsageAsync(error, $"the results and the errors would be the same file, {results}").ConfigureAwait(false);
        }

        string where = RedisConnection.Describe(redis);
        RedisBatch batch;
        try
        {
            batch = await RedisBatch.ConnectAsync(new RedisBatchOptions { Configuration = redis, Name = batchName }, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        catch (RedisConnectionException)
        {
            return await UsageAsync(error, $"cannot reach Redis at {where}; check --redis and that Redis is running").ConfigureAwait(false);
        }

        await using (batch.ConfigureAwait(false))
        {
            var progress = await batch.GetProgressAsync(cancellationToken).ConfigureAwait(false);
            if (progress.Total is null)
            {
                return await UsageAsync(error, $"Redis at {where} holds no batch named {batchName} (or its first worker is still loading it)").ConfigureAwait(false);
            }

            if (!progress.IsComplete)
            {
                string message = string.Create(CultureInfo.InvariantCulture,
                    $"the batch {batchName} is not finished: {progress.Left:N0} of {progress.Total:N0} lines have no result yet. Wait for its workers (or start one: sluice run FILE --redis HOST --batch {batchName}), then collect again; nothing was written.");
                await error.WriteLineAsync($"{Name}: {message}").ConfigureAwait(false);
                return ExitCodes.StoppedEarly;
            }

            var (resultLines, errorLines) = await BatchResultsFile.WriteAsync(batch, results, errors, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: batch {batchName}: {resultLines:N0} results written to {results} ({resultLines - errorLines:N0} succeeded), {errorLines:N0} failed for good written to {errors}.")).ConfigureAwait(false);
            if (resultLines != progress.Total)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"the batch {batchName} has {progress.Total:D} lines but {resultLines:D} results were read back; its keys in Redis were changed"));
            }

            if (delete)
            {
                await batch.DeleteAsync().ConfigureAwait(false);
                await output.WriteLineAsync($"{Name}: batch {batchName} deleted from Redis.").ConfigureAwait(false);
            }

            return errorLines > 0 ? ExitCodes.SomeFailed : ExitCodes.Success;
        }
    }

    private static async Task<int> UsageAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"{Name}: {TerminalText.Escape(message)}").ConfigureAwait(false);
        return ExitCodes.UsageError;
    }
}
