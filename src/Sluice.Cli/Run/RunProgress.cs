using System.Globalization;
using System.Text.Json;
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

    private readonly long _started = time.GetTimestamp();

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

            while (!stop.IsCancellationRequested)
            {
                await Delay(PlainInterval, stop).ConfigureAwait(false);
                if (!stop.IsCancellationRequested)
                {
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
        return string.Create(CultureInfo.InvariantCulture,
            $"{done:N0}/{c.Total:N0} done ({Percent(done, c.Total)}) · {succeeded:N0} ok · {failed:N0} failed · " +
            $"{RequestRate():F1} req/s{Budget(settings.RequestsPerMinute)} · 429s {c.Throttles:N0} · retries {Retries():N0} · " +
            $"{c.Tokens:N0} tokens · ETA {Eta()}");
    }

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
                if (ideal is { } i && c.DoneThisRun > 0)
                {
                    writer.WriteNumber("efficiency", Math.Round(Math.Min(1, i / seconds), 3));
                }

                writer.WriteString("results", settings.ResultsPath);
                writer.WriteNumber("result_lines", resultLines);
                writer.WriteString("errors", settings.ErrorsPath);
                writer.WriteNumber("error_lines", errorLines);
                writer.WriteString("journal", settings.JournalPath);
            });
        }

        var text = new System.Text.StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string earlier = c.AlreadyDone > 0 ? string.Create(inv, $" ({c.AlreadyDone:N0} finished by an earlier run)") : "";
        text.AppendLine(inv, $"{c.Total:N0} requests: {resultLines - errorLines:N0} succeeded, {errorLines:N0} failed, {notDone:N0} not done{earlier}");
        text.AppendLine(inv, $"  time {seconds:F1} s · {c.DoneThisRun / seconds:F1} req/s{Budget(settings.RequestsPerMinute)} · {c.Tokens / seconds:N0} tokens/s{TokenBudget()}");
        string efficiency = ideal is { } best && c.DoneThisRun > 0
            ? string.Create(inv, $"{Math.Min(100, 100 * best / seconds):F0}% (the budget allows this run in {best:F1} s)")
            : c.DoneThisRun == 0 ? "n/a (nothing was sent)" : "n/a (give --rpm or --tpm to compare with a budget)";
        text.AppendLine(inv, $"  efficiency {efficiency}");
        text.AppendLine(inv, $"  attempts {c.Attempts:N0} · retries {Retries():N0} · 429s {c.Throttles:N0}");
        text.Append(inv, $"  results {settings.ResultsPath} ({resultLines:N0} lines) · errors {settings.ErrorsPath} ({errorLines:N0}) · journal {settings.JournalPath}");
        return text.ToString();
    }

    private Panel Panel()
    {
        var c = counters;
        long succeeded = c.Succeeded, failed = c.Failed, done = c.AlreadyDone + succeeded + failed;
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]done[/]", Escape(string.Create(CultureInfo.InvariantCulture, $"{done:N0} / {c.Total:N0} ({Percent(done, c.Total)})")));
        grid.AddRow("[green]succeeded[/]", succeeded.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("[red]failed[/]", failed.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("rate", Escape(string.Create(CultureInfo.InvariantCulture, $"{RequestRate():F1} req/s{Budget(settings.RequestsPerMinute)}")));
        grid.AddRow("429s / retries", string.Create(CultureInfo.InvariantCulture, $"{c.Throttles:N0} / {Retries():N0}"));
        grid.AddRow("tokens", c.Tokens.ToString("N0", CultureInfo.InvariantCulture));
        grid.AddRow("ETA", Escape(Eta()));
        return new Panel(grid) { Header = new PanelHeader(Escape($"sluice run {Path.GetFileName(settings.InputPath)}")) };
    }

    private long Retries() => counters.Retries;

    private double RequestRate() => counters.DoneThisRun / Math.Max(Elapsed.TotalSeconds, 0.001);

    private string Eta()
    {
        long remaining = counters.Total - counters.AlreadyDone - counters.DoneThisRun;
        double rate = RequestRate();
        return remaining <= 0 ? "0s" : rate <= 0 ? "unknown" : Format(TimeSpan.FromSeconds(remaining / rate));
    }

    private double? IdealSeconds()
    {
        double? ideal = null;
        if (settings.RequestsPerMinute is int rpm)
        {
            ideal = counters.DoneThisRun * 60.0 / rpm;
        }

        if (settings.TokensPerMinute is long tpm)
        {
            ideal = Math.Max(ideal ?? 0, counters.Tokens * 60.0 / tpm);
        }

        return ideal;
    }

    private string TokenBudget() => settings.TokensPerMinute is long tpm ? string.Create(CultureInfo.InvariantCulture, $" (budget {tpm / 60.0:N0})") : "";

    private static string Budget(int? perMinute) => perMinute is int rpm ? string.Create(CultureInfo.InvariantCulture, $" (budget {rpm / 60.0:F1})") : "";

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
            writer.WriteNumber("requests_per_second", Math.Round(RequestRate(), 2));
            writer.WriteNumber("throttles", c.Throttles);
            writer.WriteNumber("retries", Retries());
            writer.WriteNumber("tokens", c.Tokens);
            extra?.Invoke(writer);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
