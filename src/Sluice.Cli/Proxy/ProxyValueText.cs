using Sluice.Cli.Common;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The proxy's spend and cache settings as text: money in USD (<c>5</c>, <c>0.25</c>, <c>$12.50</c>) and sizes
/// (<c>500MB</c>, <c>2GB</c>), read and shown as every <c>sluice</c> command reads and shows them
/// (<see cref="SpendAmountText"/>, <see cref="ByteSizeText"/>), with the proxy's one rule on top: a cache of at least a
/// megabyte. Callers name the option or setting in their errors.
/// </summary>
internal static class ProxyValueText
{
    /// <summary>The smallest cache taken: a smaller one would hold a handful of answers — a typo, most likely.</summary>
    public const long MinCacheBytes = 1024 * 1024;

    /// <summary>Parses a positive USD amount, with or without a leading <c>$</c>.</summary>
    public static bool TryParseUsd(string text, out decimal amount) => SpendAmountText.TryParsePositive(text, out amount);

    /// <summary>Parses a size of at least <see cref="MinCacheBytes"/>.</summary>
    public static bool TryParseSize(string text, out long bytes) => ByteSizeText.TryParse(text, out bytes) && bytes >= MinCacheBytes;

    /// <summary>A size for messages.</summary>
    public static string FormatSize(long bytes) => ByteSizeText.Format(bytes);

    /// <summary>An amount for messages.</summary>
    public static string FormatUsd(decimal amount) => SpendAmountText.Format(amount);
}
