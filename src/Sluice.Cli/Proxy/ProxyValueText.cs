using System.Globalization;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The two kinds of value the proxy's spend and cache settings take beyond counts and durations: money in USD
/// (<c>5</c>, <c>0.25</c>, <c>$12.50</c>) and sizes (<c>500MB</c>, <c>2GB</c>, <c>1048576</c> bytes). Parsing only;
/// callers name the option or setting in their errors.
/// </summary>
internal static class ProxyValueText
{
    /// <summary>The largest cap accepted: far beyond any day's spend, and far inside what decimal arithmetic holds.</summary>
    public const decimal MaxUsd = 1_000_000_000m;

    /// <summary>Parses a positive USD amount, with or without a leading <c>$</c>; at most <see cref="MaxUsd"/>.</summary>
    public static bool TryParseUsd(string text, out decimal amount)
    {
        string trimmed = text.Trim();
        if (trimmed.StartsWith('$'))
        {
            trimmed = trimmed[1..];
        }

        return decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount) && amount > 0 && amount <= MaxUsd;
    }

    /// <summary>Parses a size: a whole number of bytes, or with <c>KB</c>, <c>MB</c>, <c>GB</c> (powers of 1024); at least 1 MB.</summary>
    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        string trimmed = text.Trim();
        long unit = 1;
        foreach (var (suffix, size) in Units)
        {
            if (trimmed.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                unit = size;
                trimmed = trimmed[..^suffix.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number) || number <= 0 || number * unit > long.MaxValue / 2)
        {
            return false;
        }

        bytes = (long)Math.Ceiling(number * unit);
        // A cache smaller than a megabyte would hold a handful of answers: a typo, most likely.
        return bytes >= 1024 * 1024;
    }

    /// <summary>A size for messages: whole MB or GB where it is one.</summary>
    public static string FormatSize(long bytes) =>
        bytes % (1024L * 1024 * 1024) == 0 ? $"{bytes / (1024L * 1024 * 1024)}GB"
        : bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)}MB"
        : $"{bytes} bytes";

    /// <summary>An amount for messages: <c>$5.00</c>, <c>$0.0125</c>.</summary>
    public static string FormatUsd(decimal amount) => "$" + amount.ToString(amount == Math.Round(amount, 2) ? "0.00" : "0.00########", CultureInfo.InvariantCulture);

    private static readonly (string Suffix, long Size)[] Units =
    [
        ("GB", 1024L * 1024 * 1024), ("G", 1024L * 1024 * 1024),
        ("MB", 1024L * 1024), ("M", 1024L * 1024),
        ("KB", 1024L), ("K", 1024L),
        ("B", 1L),
    ];
}
