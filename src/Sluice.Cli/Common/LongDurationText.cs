using System.Globalization;
using Sluice.Text;

namespace Sluice.Cli.Common;

/// <summary>
/// Durations that run to days, such as how long a cache entry is kept: whole days first (<c>30d</c>, <c>1d12h</c>),
/// then the shared duration form (<see cref="DurationText"/>: <c>12h</c>, <c>90m</c>, <c>1h30m</c>).
/// </summary>
internal static class LongDurationText
{
    /// <summary>Parses <c>Nd</c> followed by an optional shared duration, or a shared duration alone.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string trimmed = text.Trim();
        int dayMark = trimmed.IndexOf('d', StringComparison.Ordinal);
        if (dayMark < 0)
        {
            return DurationText.TryParse(trimmed, out duration);
        }

        if (!int.TryParse(trimmed.AsSpan(0, dayMark), NumberStyles.None, CultureInfo.InvariantCulture, out int days) || days > 36_500)
        {
            return false;
        }

        var rest = TimeSpan.Zero;
        if (dayMark + 1 < trimmed.Length && !DurationText.TryParse(trimmed[(dayMark + 1)..], out rest))
        {
            return false;
        }

        duration = TimeSpan.FromDays(days) + rest;
        return true;
    }

    /// <summary>A duration for people: <c>30d</c>, <c>1d12h</c>, or the shared form under a day.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.FromDays(1))
        {
            return DurationText.Format(duration);
        }

        var rest = duration - TimeSpan.FromDays(Math.Floor(duration.TotalDays));
        string days = string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalDays}d");
        return rest <= TimeSpan.Zero ? days : days + DurationText.Format(rest);
    }
}
