using System.Globalization;

namespace Sluice.Text;

/// <summary>
/// Durations as text, the way OpenAI writes its <c>x-ratelimit-reset-*</c> headers (Go's duration format):
/// <c>120ms</c>, <c>1s</c>, <c>1.5s</c>, <c>6m0s</c>, <c>1h0m0s</c>. Parsing accepts the same and the shorter
/// forms Sluice's command line uses (<c>500ms</c>, <c>10s</c>, <c>2m</c>, <c>1h</c>, <c>1m30s</c>, <c>0</c>).
/// </summary>
// One source file compiled into the mock and the command line: both read and write these durations, and neither may
// depend on the other (the mock is independent of Sluice; the faces do not lean on the mock).
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
