using System.CommandLine;
using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Text;

namespace Sluice.Cli.BatchApi;

/// <summary><c>sluice run</c>'s options for the provider's Batch API: <c>--via</c>, <c>--poll-interval</c>, <c>--max-enqueued-tokens</c>.</summary>
internal static class BatchApiCommandOptions
{
    /// <summary>The Batch API's completion window: answers come within it, so a deadline at least this long can wait for them.</summary>
    public static readonly TimeSpan CompletionWindow = TimeSpan.FromHours(24);

    public static (Option<string?> Via, Option<TimeSpan?> PollInterval, Option<long?> MaxEnqueuedTokens, Option<TimeSpan?> Deadline) Create()
    {
        var via = new Option<string?>("--via")
        {
            Description = "live: send each request now, as fast as the budget allows. batch-api: submit the file through the provider's Batch API (OpenAI /v1/files and /v1/batches; Anthropic /v1/messages/batches) at half price, answers within 24 h; split under the per-batch limits (OpenAI 50,000 requests and 200 MB, Anthropic 100,000 and 256 MB), polled, unfinished lines resubmitted, the same journal and results file; kill it and run it again, it finds its batches. See docs/batch-api.md (default: live).",
            HelpName = "live|batch-api|auto",
        };
        via.AcceptOnlyFromAmong("live", "batch-api", "auto");
        via.Description += " auto: batch-api when --deadline is at least the Batch API's 24 h completion window, nothing given rules it out and the file's estimated cost is lower at batch prices, else live; the choice and why (with both estimates) are printed.";
        var deadline = new Option<TimeSpan?>("--deadline")
        {
            Description = "With --via auto: when the answers are needed, e.g. --deadline 2h or --deadline 2d. Only chooses the backend; a live run is not stopped by it.",
            HelpName = "DURATION",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (LongDurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero)
                {
                    return duration;
                }

                result.AddError($"--deadline: '{text}' is not a duration more than 0; write it like 2h, 90m or 2d.");
                return null;
            },
        };
        var pollInterval = OptionKinds.Duration("--poll-interval", BatchApiOptions.DefaultPollInterval, "With --via batch-api: the first wait between polls of the batches; it doubles while none ends, up to 16 times this (10 minutes at most unless this is more).");
        var maxEnqueuedTokens = new Option<long?>("--max-enqueued-tokens")
        {
            Description = "With --via batch-api: the account's enqueued-token limit per model (see the provider's limits page): no batch holds more tokens (estimated at 4 bytes of body a token plus the output cap), and a model's next batch waits until those in progress leave room (default: no limit).",
            HelpName = "N",
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long tokens) && tokens > 0)
                {
                    return tokens;
                }

                result.AddError($"--max-enqueued-tokens: '{text}' is not a whole number of tokens of at least 1.");
                return null;
            },
        };
        return (via, pollInterval, maxEnqueuedTokens, deadline);
    }

    /// <summary>
    /// Resolves <c>--via auto</c> to <c>live</c> or <c>batch-api</c>, with the reason to print: the Batch API when the
    /// deadline is at least its 24 h completion window and no other option rules it out; otherwise live calls.
    /// Any other <c>--via</c> is returned as given, without a reason.
    /// </summary>
    public static (Run.RunArguments Arguments, string? Why) Choose(Run.RunArguments arguments)
    {
        if (arguments.Via != "auto" || arguments.Deadline is not { } deadline)
        {
            return (arguments, null);
        }

        string given = LongDurationText.Format(deadline);
        if (deadline < CompletionWindow)
        {
            return (arguments with { Via = "live", Deadline = null }, $"--via auto: live calls, because the deadline {given} is shorter than the Batch API's 24h completion window");
        }

        if (Problem(arguments with { Via = "batch-api", Deadline = null }) is { } problem)
        {
            return (arguments with { Via = "live", Deadline = null }, $"--via auto: live calls, although the deadline {given} allows the Batch API: {problem}");
        }

        return (arguments with { Via = "batch-api", Deadline = null }, $"--via auto: the Batch API at batch prices (half of live on most models), because the deadline {given} allows its 24h completion window");
    }

    /// <summary>
    /// Weighs the Batch API, chosen by the deadline (<paramref name="why"/>), against the file's estimated cost: it stays
    /// chosen when its worst case at batch prices is below the live worst case, with both figures in the reason; when no
    /// saving is known (no line's model has a price, or none is cheaper at batch prices) live calls are chosen instead, since the
    /// answers would come up to 24 h later for nothing.
    /// </summary>
    public static (Run.RunArguments Arguments, string Why) Weigh(Run.RunArguments arguments, string why, decimal liveWorstCase, decimal batchWorstCase, bool allPriced)
    {
        decimal saving = liveWorstCase - batchWorstCase;
        if (saving <= 0)
        {
            string known = liveWorstCase == 0 ? "no line's model has a price" : "no line's model is cheaper at batch prices";
            return (arguments with { Via = "live" }, $"--via auto: live calls: the deadline allows the Batch API, but {known} (see --prices), so it would save nothing known");
        }

        string part = allPriced ? string.Empty : " (lines whose model has no price not counted)";
        return (arguments, FormattableString.Invariant(
            $"{why}; estimated worst case ${liveWorstCase:0.00####} live, ${batchWorstCase:0.00####} at batch prices: up to ${saving:0.00####} saved{part}"));
    }

    /// <summary>Why these options cannot run together, or null.</summary>
    public static string? Problem(Run.RunArguments arguments)
    {
        if (arguments.Via == "auto")
        {
            return "--via auto needs --deadline DURATION (when the answers are needed, e.g. 2h or 2d)";
        }

        if (arguments.Deadline is not null)
        {
            return "--deadline applies to --via auto only";
        }

        if (arguments.Via != "batch-api")
        {
            return arguments.PollInterval is not null || arguments.MaxEnqueuedTokens is not null
                ? "--poll-interval and --max-enqueued-tokens apply to --via batch-api only"
                : null;
        }

        return arguments switch
        {
            { Provider: Providers.ProviderKind.AzureOpenAI } => "--via batch-api supports OpenAI's and Anthropic's Batch APIs (--provider openai, compatible or anthropic); Azure OpenAI's batches are not supported yet",
            { Batch: not null } or { Redis: not null } => "--via batch-api runs from one journal: it cannot be combined with --redis or --batch",
            { PollInterval: { } poll } when poll < TimeSpan.FromMilliseconds(10) || poll > TimeSpan.FromHours(1) => $"--poll-interval must be from 10ms to 1h, not {DurationText.Format(poll)}",
            _ => null,
        };
    }
}
