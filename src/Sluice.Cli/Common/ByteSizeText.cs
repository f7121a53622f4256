using System.Globalization;

namespace Sluice.Cli.Common;

/// <summary>
/// A size on disk as the command line takes it: a number and a unit, <c>500MB</c>, <c>1GB</c>, <c>1.5GiB</c>, <c>800KB</c>
/// (or bytes alone). Units are binary (1 KB = 1,024 bytes), as file managers show sizes and as the defaults are stated.
/// </summary>
internal static class ByteSizeText
{
    private static readonly (string Unit, long Bytes)[] Units =
    [
        ("tib", 1L << 40), ("tb", 1L << 40), ("t", 1L << 40),
        ("gib", 1L << 30), ("gb", 1L << 30), ("g", 1L << 30),
        ("mib", 1L << 20), ("mb", 1L << 20), ("m", 1L << 20),
        ("kib", 1L << 10), ("kb", 1L << 10), ("k", 1L << 10),
        ("b", 1),
    ];

    /// <summary>Parses a size of at least one byte and at most 1 PiB.</summary>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string trimmed = text.Trim().ToLowerInvariant();
        long unit = 1;
        foreach (var (name, size) in Units)
        {
            if (trimmed.EndsWith(name, StringComparison.Ordinal))
            {
                unit = size;
                trimmed = trimmed[..^name.Length].TrimEnd();
                break;
            }
        }

        if (!decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number) ||
            number <= 0 || number * unit > 1L << 50)
        {
            return false;
        }

        bytes = (long)Math.Ceiling(number * unit);
        return true;
    }

    /// <summary>A size for people: <c>1 GB</c>, <c>512 MB</c>, <c>1.5 GB</c> (binary units, as parsed).</summary>
    public static string Format(long bytes)
    {
        var (unit, size) = bytes >= 1L << 40 ? ("TB", 1L << 40)
            : bytes >= 1L << 30 ? ("GB", 1L << 30)
            : bytes >= 1L << 20 ? ("MB", 1L << 20)
            : bytes >= 1L << 10 ? ("KB", 1L << 10)
            : ("bytes", 1L);
        return string.Create(CultureInfo.InvariantCulture, $"{(decimal)bytes / size:0.#} {unit}");
    }
}
