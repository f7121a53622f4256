using System.Globalization;
using System.Text.Json;
using Sluice.Cli.Common;
using Sluice.Gate;
using Sluice.Redis.Connection;
using Sluice.Redis.Gate;
using Spectre.Console;

namespace Sluice.Cli.Run;

/// <summary>
/// Shows a run as it goes: on a terminal a live Spectre.Console panel redrawn four times a second; redirected, one
/// plain status line every few seconds (or a JSON object, with <c>--log-format json</c>). Also writes the summary.
/// </summary>
internal sealed class RunProgress(RunCounters counters, RunSettings settings, TimeProvider time, TextWriter output, bool live)
{
    /// <summary>How often a plain or JSON status line is written.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(5);

    /// <summary>How often, with <c>--log-format json</c>, the limits are checked for a change worth an event.</summary>
    public static readonly TimeSpan LimitsInterval = TimeSpan.FromMilliseconds(250);

    private readonly long _started = time.GetTimestamp();
    private RunLimits? _reportedLimits;

    /// <summary>Reads the limits in force (configured or learned); none until the runner exists.</summary>
    public Func<RunLimits>? Limits { get; set; }

    /// <summary>Whether the budgets are shared through Redis now, or held on this process's share while it is away; null without <c>--redis</c>.</summary>
    public Func<RedisGateStatus?>? Sharing { get; set; }

    /// <summary>The response cache's file when the run has one, for the summary.</summary>
    public string? CacheFile { get; set; }

    /// <summary>Whether the cache could not be used (a warning said why), so the summary does not say it was empty.</summary>
    public bool CacheUnusable { get; set; }

    /// <summary>Models whose answers had no price, named in the summary.</summary>
    public IReadOnlyCollection<string> Unpriced { get; set; } = [];

    private RunLimits Current => Limits?.Invoke() ?? new RunLimits(
        settings.RequestsPerMinute,
        settings.RequestsPerMinute is null ? BudgetSource.None : BudgetSource.Configured,
        settings.TokensPerMinute,
        settings.TokensPerMinute is null ? BudgetSource.None : BudgetSource.Configured,
        settings.Concurrency,
        settings.AdaptiveConcurrency);

    public TimeSpan Elapsed => time.GetElapsedTime(_started);

    /// <summary>Shows progress until <paramref name="stop"/> is cancelled.</summary>
    public async Task ShowAsync(CancellationToken stop)
    {
        try
        {
            if (live)
            {
                await AnsiConsole.Live(new Markup(Escape(StatusLine())))
                    .AutoClear(false)
                    .StartAsync(async context =>
                    {
                        while (!stop.IsCancellationRequested)
                        {
                            context.UpdateTarget(Panel());
                            try
                            {
                                await Delay(TimeSpan.FromMilliseconds(250), stop).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (stop.IsCancellationRequested)
                            {
                                break;
                            }
                        }

                        // The last frame shows the final counts, every outcome committed.
                        context.UpdateTarget(Panel());
                    }).ConfigureAwait(false);
                return;
            }

            // JSON readers are told when the learned limits change, so the limits are looked at more often than progress is written.
            var tick = settings.Json ? LimitsInterval : PlainInterval;
            long lastProgress = time.GetTimestamp();
            while (!stop.IsCancellationRequested)
            {
                await Delay(tick, stop).ConfigureAwait(false);
                if (stop.IsCancellationRequested)
                {
                    break;
                }

                if (settings.Json && LimitsChanged() is { } limits)
                {
                    await output.WriteLineAsync(JsonEvent("limits", writer => WriteLimits(writer, limits))).ConfigureAwait(false);
                }

                if (time.GetElapsedTime(lastProgress) >= PlainInterval)
                {
                    lastProgress = time.GetTimestamp();
                    await output.WriteLineAsync(settings.Json ? JsonEvent("progress") : StatusLine()).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>One line: done/total, successes, failures, rate against budget, 429s, retries, tokens, ETA.</summary>
    public string StatusLine()
    {
        var c = counters;
        // Each counter read once, so the line adds up even while outcomes are being committed.
        long succeeded = c.Succeeded, failed = c.Failed, done = c.AlreadyDone + succeeded + failed;
        string head = c.BatchName is { } batch
            ? string.Create(CultureInfo.InvariantCulture, $"this worker {succeeded + failed:N0} · batch {batch} {c.BatchLeft ?? c.Total:N0} of {c.Total:N0} left")
            : string.Create(CultureInfo.InvariantCulture, $"{done:N0}/{c.Total:N0} done ({Percent(done, c.Total)})");
        return string.Create(CultureInfo.InvariantCulture,
            $"{head} · {succeeded:N0} ok · {failed:N0} failed · " +
            $"{SentRate():F1} req/s{Budget(Current.StatedRequestsPerMinute)} · 429s {c.Throttles:N0} · retries {Retries():N0} · " +
            $"{c.Tokens:N0} tokens{CostText()} · ETA {Eta()} · limits {Current}{(SharingText() is { } sharing ? " · " + sharing : "")}");
    }

    /// <summary>
    /// <c> · $0.42 spent of $5.00 · projected $1.10 (from 200 answers)</c>, or before any answer the worst case from
    /// the lines' estimates; <c> · 49 from cache</c> when the cache answered.
    /// </summary>
    private string CostText()
    {
        var c = counters;
        var inv = CultureInfo.InvariantCulture;
        string cap = c.SpendCap is { } limit ? " of " + SpendAmountText.Format(limit) + (c.EarlierSpent > 0 ? $" ({SpendAmountText.Format(c.EarlierSpent)} before this run)" : "") : "";
        string text = $" · {SpendAmountText.Format(c.Spent)} spent{cap}";
        var (projected, basis) = Projection();
        if (projected is { } p)
        {
            text += $" · projected {SpendAmountText.Format(p)} {basis}";
        }

        return c.CacheHits > 0 ? text + string.Create(inv, $" · {c.CacheHits:N0} from cache") : text;
    }

    /// <summary>The run's projected cost and what it rests on: the answers so far, else the lines' worst case.</summary>
    private (decimal? Projected, string Basis) Projection()
    {
        var c = counters;
        if (c.Projected() is { } measured)
        {
            return (measured, string.Create(CultureInfo.InvariantCulture, $"(from {c.Priced:N0} answers' cost)"));
        }

        return c.EstimatedWorstCase is { } worst ? (worst, "(at most: the lines' worst case)") : (null, "");
    }

    /// <summary>
    /// <c>redis shared by 4</c>, or <c>redis away for 12s, 1/4 of each budget here</c> — so a user sees at once
    /// that the run paces on its own share; null without <c>--redis</c>.
    /// </summary>
    private string? SharingText() => Sharing?.Invoke() is not { } status
        ? null
        : status.Shared
            ? string.Create(CultureInfo.InvariantCulture, $"redis shared by {status.Members}")
            : string.Create(CultureInfo.InvariantCulture, $"redis away for {Sluice.Text.DurationText.Format(Away(status))}, 1/{Math.Max(1, status.Members)} of each budget here");

    // Whole seconds: the line is read by people, and a fraction would change on every redraw.
    private TimeSpan Away(RedisGateStatus status) => TimeSpan.FromSeconds(Math.Max(0, Math.Floor((time.GetUtcNow() - status.Since).TotalSeconds)));

    /// <summary>The end-of-run summary, several lines (or one JSON object).</summary>
    public string Summary(int notDone, string? stopReason, long resultLines, long errorLines)
    {
        var c = counters;
        double seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        double? ideal = IdealSeconds();
        if (settings.Json)
        {
            return JsonEvent("summary", writer =>
            {
                writer.WriteNumber("not_done", notDone);
                writer.WriteString("stop_reason", stopReason);
                writer.WriteNumber("seconds", Math.Round(seconds, 2));
                writer.WriteNumber("tokens_per_second", Math.Round(c.Tokens / seconds, 1));
                if (ideal is { } i && Sent() > 0)
                {
                    writer.WriteNumber("efficiency", Math.Round(Math.Min(1, i / seconds), 3));
                }

                writer.WriteString("results", settings.ResultsPath);
                writer.WriteNumber("result_lines", resultLines);
                writer.WriteString("errors", settings.ErrorsPath);
                writer.WriteNumber("error_lines", errorLines);
                writer.WriteString("journal", settings.JournalPath);
                WriteLimits(writer, Current);
            });
        }

        var text = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string earlier = c.AlreadyDone > 0 ? string.Create(inv, $" ({c.AlreadyDone:N0} finished by an earlier run)") : "";
        if (c.BatchName is { } batch)
        {
            text.AppendLine(inv, $"batch {batch}: {c.Total:N0} requests, {notDone:N0} left; this worker did {c.DoneThisRun:N0} ({c.Succeeded:N0} succeeded, {c.Failed:N0} failed)");
            if (notDone == 0)
            {
                text.AppendLine(inv, $"  the whole batch: {resultLines - errorLines:N0} succeeded, {errorLines:N0} failed");
            }
        }
        else
        {
            text.AppendLine(inv, $"{c.Total:N0} requests: {resultLines - errorLines:N0} succeeded, {errorLines:N0} failed, {notDone:N0} not done{earlier}");
        }

        if (notDone > 0 && stopReason is not null)
        {
            text.AppendLine(inv, $"  stopped early: {stopReason}");
        }

        var limits = Current;
        text.AppendLine(inv, $"  time {seconds:F1} s · {Sent() / seconds:F1} req/s{Budget(limits.StatedRequestsPerMinute)} · {c.Tokens / seconds:N0} tokens/s{TokenBudget(limits.TokensPerMinute)}");
        string efficiency = ideal is { } best && Sent() > 0
            ? string.Create(inv, $"{Math.Min(100, 100 * best / seconds):F0}% (the budget allows this run in {best:F1} s)")
            : Sent() == 0 ? "n/a (nothing was sent)" : "n/a (no budget was configured or stated by the provider to compare with)";
        text.AppendLine(inv, $"  efficiency {efficiency}");
        text.AppendLine(inv, $"  limits {limits}");
        if (SharingText() is { } sharing && settings.Redis is { } redis)
        {
            text.AppendLine(inv, $"  budgets through Redis at {RedisConnection.Describe(redis)}: {sharing} at the end");
        }

        text.AppendLine(inv, $"  attempts {c.Attempts:N0} · retries {Retries():N0} · 429s {c.Throttles:N0}");
        if (c.BatchName is null)
        {
            text.AppendLine(CostSummary());
            if (CacheSummary() is { } cached)
            {
                text.AppendLine(cached);
            }
        }

        text.Append(c.BatchName is null
            ? string.Create(inv, $"  results {settings.ResultsPath} ({resultLines:N0} lines) · errors {settings.ErrorsPath} ({errorLines:N0}) · journal {settings.JournalPath}")
            : notDone == 0
                ? string.Create(inv, $"  results {settings.ResultsPath} ({resultLines:N0} lines) · errors {settings.ErrorsPath} ({errorLines:N0})")
                : "  results: not written until the batch is complete (sluice collect writes them from any machine)");
        return text.ToString();
    }

    /// <summary><c>  cost $0.42 this run · projected $1.10 for its 500 lines (from 200 answers' cost) · cap $5.00</c>.</summary>
    private string CostSummary()
    {
        var c = counters;
        var inv = CultureInfo.InvariantCulture;
        var line = new System.Text.StringBuilder(string.Create(inv, $"  cost {SpendAmountText.Format(c.Spent)} this run"));
        if (c.EarlierSpent > 0)
        {
            line.Append(inv, $" ({SpendAmountText.Format(c.EarlierSpent + c.Spent)} with earlier runs)");
        }

        var (projected, basis) = Projection();
        long toDo = c.Total - c.AlreadyDone;
        if (projected is { } p && toDo > 0 && c.DoneThisRun < toDo)
        {
            line.Append(inv, $" · projected {SpendAmountText.Format(p)} for its {toDo:N0} lines {basis}");
        }

        if (c.SpendCap is { } cap)
        {
            line.Append(inv, $" · cap {SpendAmountText.Format(cap)}");
        }

        if (Unpriced.Count > 0)
        {
            line.Append(inv, $" · no price for {TerminalText.Escape(string.Join(", ", Unpriced.Order(StringComparer.Ordinal)))}: not counted (add with --prices)");
        }

        return line.ToString();
    }

    /// <summary><c>  cache 49 answered from sluice-cache.db: saved 49 requests, 3,400 tokens, $0.0021</c>; null without hits or a cache.</summary>
    private string? CacheSummary()
    {
        var c = counters;
        if (CacheFile is null)
        {
            return null;
        }

        var inv = CultureInfo.InvariantCulture;
        if (CacheUnusable)
        {
            return $"  cache {CacheFile}: not used (see the warning above); every line was sent";
        }

        if (c.CacheHits > 0)
        {
            return string.Create(inv, $"  cache {c.CacheHits:N0} answered from {CacheFile} without sending: saved {c.CacheHits:N0} requests, {c.SavedTokens:N0} tokens, {SpendAmountText.Format(c.Saved)}");
        }

        // A resumed run with nothing left looked nothing up: saying the cache was empty would be wrong.
        return c.DoneThisRun == 0
            ? string.Create(inv, $"  cache {CacheFile}: nothing left to look up")
            : string.Create(inv, $"  cache {CacheFile}: none of these requests was there yet (their answers are kept for the next run)");
    }

    private Panel Panel()
    {
        var c = counters;
        long succeeded = c.Succeeded, failed = c.Failed, done = c.AlreadyDone + succeeded + failed;
        var grid = new Grid().AddColumn().AddColumn();
        if (c.BatchName is { } batch)
        {
            grid.AddRow("[bold]this worker[/]", (succeeded + failed).ToString("N0", CultureInfo.InvariantCulture));
            grid.AddRow("[bold]batch[/]", Escape(string.Create(CultureInfo.InvariantCulture, $"{batch}: {c.BatchLeft ?? c.Total:N0} of {c.Total:N0} left")));
        }
        else
        {
            grid.AddRow("[bold]done[/]", Escape(string.Create(CultureInfo.InvariantCulture, $"{done:N0} / {c.Total:N0} ({Percent(done, c.Total)})")));
        }

        grid.AddRow("[green]succeeded[/]", succeeded.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("[red]failed[/]", failed.ToString("N0", CultureInfo.InvariantCulture));
        var limits = Current;
        grid.AddRow("rate", Escape(string.Create(CultureInfo.InvariantCulture, $"{SentRate():F1} req/s{Budget(limits.StatedRequestsPerMinute)}")));
        grid.AddRow("limits", Escape(limits.ToString()));
        grid.AddRow("429s / retries", string.Create(CultureInfo.InvariantCulture, $"{c.Throttles:N0} / {Retries():N0}"));
        grid.AddRow("tokens", c.Tokens.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("cost", Escape(CostText().TrimStart(' ', '·').Trim()));
        grid.AddRow("ETA", Escape(Eta()));
        return new Panel(grid) { Header = new PanelHeader(Escape($"sluice run {Path.GetFileName(settings.InputPath)}")) };
    }

    private long Retries() => counters.Retries;

    private double RequestRate() => counters.DoneThisRun / Math.Max(Elapsed.TotalSeconds, 0.001);

    // Answers from the cache were not sent: the rate against the provider's budget, and the time the budget allows,
    // count only what was sent.
    private long Sent() => Math.Max(0, counters.DoneThisRun - counters.CacheHits);

    private double SentRate() => Sent() / Math.Max(Elapsed.TotalSeconds, 0.001);

    private string Eta()
    {
        long remaining = counters.Total - counters.AlreadyDone - counters.DoneThisRun;
        double rate = RequestRate();
        if (counters.BatchLeft is { } left)
        {
            // A shared batch goes at every worker's pace together: its own rate since this worker joined.
            remaining = left;
            rate = (counters.Total - left - counters.BatchRecordedAtStart) / Math.Max(Elapsed.TotalSeconds, 0.001);
        }

        return remaining <= 0 ? "0s" : rate <= 0 ? "unknown" : Format(TimeSpan.FromSeconds(remaining / rate));
    }

    // Against the budgets in force at the end: configured, or learned during the run.
    private double? IdealSeconds()
    {
        var limits = Current;
        double? ideal = null;
        if (limits.StatedRequestsPerMinute is { } rpm)
        {
            ideal = Sent() * 60.0 / rpm;
        }

        if (limits.TokensPerMinute is { } tpm)
        {
            ideal = Math.Max(ideal ?? 0, counters.Tokens * 60.0 / tpm);
        }

        return ideal;
    }

    /// <summary>The limits if they changed (in whole numbers) since last reported, else null.</summary>
    private RunLimits? LimitsChanged()
    {
        var now = Current.Rounded();

        // Before the first request no partition exists, so there is nothing in force to report.
        if (_reportedLimits == now || now.Concurrency == 0)
        {
            return null;
        }

        _reportedLimits = now;
        return now;
    }

    private static void WriteLimits(Utf8JsonWriter writer, RunLimits limits)
    {
        writer.WriteStartObject("limits");
        WriteNumberOrNull(writer, "requests_per_minute", limits.RequestsPerMinute);
        writer.WriteString("requests_source", BudgetSourceNames.Json(limits.RequestSource));
        WriteNumberOrNull(writer, "tokens_per_minute", limits.TokensPerMinute);
        writer.WriteString("tokens_source", BudgetSourceNames.Json(limits.TokenSource));
        WriteNumberOrNull(writer, "input_tokens_per_minute", limits.InputTokensPerMinute);
        writer.WriteString("input_tokens_source", BudgetSourceNames.Json(limits.InputSource));
        WriteNumberOrNull(writer, "output_tokens_per_minute", limits.OutputTokensPerMinute);
        writer.WriteString("output_tokens_source", BudgetSourceNames.Json(limits.OutputSource));
        writer.WriteNumber("concurrency", limits.Concurrency);
        writer.WriteBoolean("adaptive_concurrency", limits.Adaptive);
        writer.WriteEndObject();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, double? value)
    {
        if (value is { } v)
        {
            writer.WriteNumber(name, Math.Round(v, 1));
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static string TokenBudget(double? perMinute) => perMinute is { } tpm ? string.Create(CultureInfo.InvariantCulture, $" (budget {tpm / 60.0:N0})") : "";

    private static string Budget(double? perMinute) => perMinute is { } rpm ? string.Create(CultureInfo.InvariantCulture, $" (budget {rpm / 60.0:F1})") : "";

    private static string Percent(long part, long whole) =>
        string.Create(CultureInfo.InvariantCulture, $"{(whole == 0 ? 100 : Math.Floor(100.0 * part / whole)):F0}%");

    private static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:D2}m")
        : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:D2}s")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalSeconds)}s");

    private static string Escape(string text) => Markup.Escape(text);

    private Task Delay(TimeSpan delay, CancellationToken stop) => Task.Delay(delay, time, stop);

    /// <summary>A JSON log line for an event that is a message: <c>{"time","event","message"}</c>.</summary>
    public static string JsonMessage(TimeProvider time, string name, string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow());
            writer.WriteString("event", name);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private string JsonEvent(string name, Action<Utf8JsonWriter>? extra = null)
    {
        var c = counters;
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("time", time.GetUtcNow());
            writer.WriteString("event", name);
            writer.WriteNumber("total", c.Total);
            long succeeded = c.Succeeded, failed = c.Failed;
            writer.WriteNumber("done", c.AlreadyDone + succeeded + failed);
            writer.WriteNumber("succeeded", succeeded);
            writer.WriteNumber("failed", failed);
            writer.WriteNumber("requests_per_second", Math.Round(SentRate(), 2));
            writer.WriteNumber("throttles", c.Throttles);
            writer.WriteNumber("retries", Retries());
            writer.WriteNumber("tokens", c.Tokens);
            writer.WriteNumber("spent", Math.Round(c.Spent, 6));
            var (projected, _) = Projection();
            if (projected is { } p)
            {
                writer.WriteNumber("projected", Math.Round(p, 6));
                writer.WriteString("projected_from", c.Projected() is null ? "worst_case" : "answers");
            }
            else
            {
                writer.WriteNull("projected");
            }

            if (c.SpendCap is { } cap)
            {
                writer.WriteNumber("spend_cap", cap);
                writer.WriteNumber("spent_before", Math.Round(c.EarlierSpent, 6));
            }

            writer.WriteNumber("cache_hits", c.CacheHits);
            if (c.CacheHits > 0)
            {
                writer.WriteNumber("saved_tokens", c.SavedTokens);
                writer.WriteNumber("saved_cost", Math.Round(c.Saved, 6));
            }

            if (c.BatchName is { } batch)
            {
                writer.WriteString("batch", batch);
                writer.WriteNumber("worker_done", succeeded + failed);
                if (c.BatchLeft is { } left)
                {
                    writer.WriteNumber("batch_left", left);
                }
            }

            if (Sharing?.Invoke() is { } status)
            {
                writer.WriteStartObject("redis");
                writer.WriteBoolean("shared", status.Shared);
                writer.WriteNumber("members", status.Members);
                writer.WriteString("since", status.Since);
                writer.WriteEndObject();
            }

            extra?.Invoke(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
