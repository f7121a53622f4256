using System.Globalization;

namespace Sluice.Cli.Common;

/// <summary>
/// An amount of money in US dollars as the command line takes it (<c>5</c>, <c>5.00</c>, <c>0.25</c>, <c>$12.5</c>) and
/// shows it: a spend cap, a cost, a projection. Invariant culture, so <c>5,00</c> is refused rather than read as 500.
/// </summary>
internal static class SpendAmountText
{
    /// <summary>The largest cap taken: far above any run, small enough that sums of costs never overflow a decimal.</summary>
    public const decimal MaxAmount = 1_000_000_000m;

    /// <summary>Parses a positive amount of at most <see cref="MaxAmount"/> dollars; a leading <c>$</c> is allowed.</summary>
    public static bool TryParsePositive(string? text, out decimal amount)
    {
        amount = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var span = text.AsSpan().Trim();
        if (span.StartsWith("$", StringComparison.Ordinal))
        {
            span = span[1..];
        }

        return decimal.TryParse(span, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out amount) && amount > 0 && amount <= MaxAmount;
    }

    /// <summary>The sentence that says what a spend cap must be, naming the offending value.</summary>
    public static string Problem(string what, string? text) =>
        $"{what} must be an amount in US dollars more than 0 (like 5, 5.00 or 0.25), not '{text}'";

    /// <summary>
    /// An amount for people: <c>$4.27</c>, with more digits for small amounts so a run of cheap requests does not read
    /// as <c>$0.00</c> (<c>$0.000123</c>).
    /// </summary>
    public static string Format(decimal amount)
    {
        decimal magnitude = Math.Abs(amount);
        string digits = magnitude == 0 || magnitude >= 1 ? "0.00" : magnitude >= 0.01m ? "0.00##" : "0.00####";
        return (amount < 0 ? "-$" : "$") + magnitude.ToString("#,0" + digits[1..], CultureInfo.InvariantCulture);
    }
}
