using System.CommandLine;
using System.CommandLine.Parsing;

namespace Sluice.Cli.Proxy;

/// <summary>The proxy's options for money and sizes, parsed by <see cref="ProxyValueText"/> so a bad value is a usage error naming the option.</summary>
internal static class ProxyOptionKinds
{
    public static Option<decimal?> Usd(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "USD",
        CustomParser = result => Parse(result, name, (string text, out decimal value) => ProxyValueText.TryParseUsd(text, out value), "an amount in USD more than 0, such as 5 or 0.50"),
    };

    public static Option<long?> Size(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "SIZE",
        CustomParser = result => Parse(result, name, (string text, out long value) => ProxyValueText.TryParseSize(text, out value), "a size of at least 1MB, such as 500MB or 2GB"),
    };

    private delegate bool TryParse<T>(string text, out T value);

    private static T? Parse<T>(ArgumentResult result, string name, TryParse<T> parse, string expectation)
        where T : struct
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (parse(text, out T value))
        {
            return value;
        }

        result.AddError($"{name} must be {expectation}, not '{text}'.");
        return null;
    }
}
