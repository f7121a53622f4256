using System.Globalization;

namespace Sluice.Cli.Common;

/// <summary>
/// Durations as the commands read and write them: options, environment variables, config files, help and messages.
/// Parsing takes number-and-unit parts (<c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, <c>1m30s</c>, <c>0</c>) and the
/// longer form OpenAI writes in its <c>x-ratelimit-reset-*</c> headers (<c>1.5s</c>, <c>6m0s</c>); formatting writes
/// that form. The mock has its own copy for the headers it sends: a face never depends on the mock for its parsing.
/// </summary>
internal static class DurationText
{
    /// <summary>
    /// Formats a duration rounded up to whole milliseconds: a client that waits what a header says must never
    /// arrive early.
    /// </summary>
    public static string Format(TimeSpan duration)
    {
        if (duration <= TimeSpan.Zero)
        {
            return "0s";
        }

        var milliseconds = (duration.Ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        if (milliseconds < 1000)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        var hours = milliseconds / 3_600_000;
        var minutes = milliseconds / 60_000 % 60;
        var seconds = (milliseconds % 60_000) / 1000m;
        var text = seconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        if (hours > 0 || minutes > 0)
        {
            text = minutes.ToString(CultureInfo.InvariantCulture) + "m" + text;
        }

        if (hours > 0)
        {
            text = hours.ToString(CultureInfo.InvariantCulture) + "h" + text;
        }

        return text;
    }

    /// <summary>Parses a sequence of number-and-unit parts (<c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>), or <c>0</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span is "0")
        {
            return true;
        }

        var total = 0m;
        while (!span.IsEmpty)
        {
            var numberLength = 0;
            while (numberLength < span.Length && (char.IsAsciiDigit(span[numberLength]) || span[numberLength] == '.'))
            {
                numberLength++;
            }

            if (numberLength == 0 ||
                !decimal.TryParse(span[..numberLength], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            span = span[numberLength..];
            decimal unitMilliseconds;
            if (span.StartsWith("ms", StringComparison.Ordinal))
            {
                unitMilliseconds = 1;
                span = span[2..];
            }
            else if (span.StartsWith("s", StringComparison.Ordinal))
            {
                unitMilliseconds = 1000;
                span = span[1..];
            }
            else if (span.StartsWith("m", StringComparison.Ordinal))
            {
                unitMilliseconds = 60_000;
                span = span[1..];
            }
            else if (span.StartsWith("h", StringComparison.Ordinal))
            {
                unitMilliseconds = 3_600_000;
                span = span[1..];
            }
            else
            {
                return false;
            }

            total += number * unitMilliseconds;
            if (total > (decimal)TimeSpan.MaxValue.TotalMilliseconds / 2)
            {
                return false;
            }
        }

        duration = TimeSpan.FromTicks((long)(total * TimeSpan.TicksPerMillisecond));
        return true;
    }
}
