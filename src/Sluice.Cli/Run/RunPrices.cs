using System.Globalization;
using Sluice.Spend;

namespace Sluice.Cli.Run;

/// <summary>The prices a run counts with: the table shipped in the Sluice package, with a user's file over it (<c>--prices</c>).</summary>
internal static class RunPrices
{
    /// <summary>A base URL for capturing lines when none is known (a dry run, the mock before it starts): estimates do not depend on it.</summary>
    public static readonly Uri Placeholder = new("http://127.0.0.1/");

    /// <summary>The shipped table, overridden by the file at <paramref name="path"/> when one is given.</summary>
    /// <exception cref="PriceTableException">The file cannot be read or holds a bad value; the message names the file, line and value.</exception>
    public static PriceTable Load(string? path) =>
        path is null ? PriceTable.Default : PriceTable.Default.OverriddenBy(PriceTable.Load(path));

    /// <summary>Where the prices come from, for messages: <c>the shipped price table of 2025-06-01 with my-prices.json over it</c>.</summary>
    public static string Describe(PriceTable prices, string? path)
    {
        string shipped = string.Create(CultureInfo.InvariantCulture, $"the shipped price table of {PriceTable.Default.AsOf:yyyy-MM-dd}");
        return path is null ? shipped : $"{shipped} with {path} over it";
    }
}
