using System.CommandLine.Parsing;
using System.CommandLine;
using System.Globalization;
using System.Net;
using Sluice.Text;

namespace Sluice.Cli.Common;

/// <summary>The kinds of value the commands take (counts, rates, durations, addresses), each with its parsing and its checks, so that every option of a kind reads and fails alike.</summary>
internal static class OptionKinds
{
    public static Option<int?> PositiveInt(string name, string description, int? defaultValue = null)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result => ParseInt(result, name, minimum: 1, "at least 1"),
        };
        if (defaultValue is int value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    public static Option<int?> NonNegativeInt(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => ParseInt(result, name, minimum: 0, "0 or more"),
    };

    public static Option<double> Rate(string name, string description) => new(name)
    {
        Description = description + " A rate from 0 to 1.",
        HelpName = "RATE",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) || rate is < 0 or > 1 || double.IsNaN(rate))
            {
                result.AddError($"{name} must be a rate from 0 to 1, not '{text}'.");
                return 0;
            }

            return rate;
        },
    };

    // Parsed by hand so a value that is not a number is a usage error naming it, not an exception.
    private static int? ParseInt(ArgumentResult result, string name, int minimum, string expectation)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < minimum)
        {
            result.AddError($"{name} must be a whole number {expectation}, not '{text}'.");
            return null;
        }

        return value;
    }

    // Nullable, so that help states the default in the documented duration form rather than as a TimeSpan.
    public static Option<TimeSpan?> Duration(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} Written 500ms, 10s, 2m, 1h or 1m30s (default: {DurationText.Format(defaultValue)}).",
        HelpName = "DURATION",
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (DurationText.TryParse(text, out var duration))
            {
                return duration;
            }

            result.AddError($"{name}: '{text}' is not a duration; write it like 500ms, 10s, 2m or 1h.");
            return null;
        },
    };

    /// <summary>An amount in US dollars, more than 0 (<c>5</c>, <c>5.00</c>, <c>$0.25</c>).</summary>
    public static Option<decimal?> Amount(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "USD",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (SpendAmountText.TryParsePositive(text, out decimal amount))
            {
                return amount;
            }

            result.AddError(SpendAmountText.Problem(name, text) + ".");
            return null;
        },
    };

    /// <summary>A size on disk: <c>500MB</c>, <c>1GB</c> (binary units).</summary>
    public static Option<long?> ByteSize(string name, long defaultValue, string description) => new(name)
    {
        Description = $"{description} Written 500MB, 1GB, 1.5GB (default: {ByteSizeText.Format(defaultValue).Replace(" ", "", StringComparison.Ordinal)}).",
        HelpName = "SIZE",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (ByteSizeText.TryParse(text, out long bytes))
            {
                return bytes;
            }

            result.AddError($"{name}: '{text}' is not a size; write it like 500MB or 1GB.");
            return null;
        },
    };

    /// <summary>A duration that may run to days: <c>30d</c>, <c>12h</c>, <c>1d12h</c>.</summary>
    public static Option<TimeSpan?> LongDuration(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} Written 30d, 12h, 90m or 1d12h (default: {LongDurationText.Format(defaultValue)}).",
        HelpName = "DURATION",
        CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (LongDurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero)
            {
                return duration;
            }

            result.AddError($"{name}: '{text}' is not a duration more than 0; write it like 30d, 12h or 90m.");
            return null;
        },
    };

    public static IPEndPoint? ParseEndPoint(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : "";
        if (int.TryParse(text.TrimStart(':'), NumberStyles.None, CultureInfo.InvariantCulture, out var portOnly) && portOnly <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, portOnly);
        }

        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) &&
            int.TryParse(text["localhost:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        if (IPEndPoint.TryParse(text, out var endPoint) && text.Contains(':', StringComparison.Ordinal))
        {
            return endPoint;
        }

        result.AddError($"--listen: '{text}' is not ADDRESS:PORT (for example 127.0.0.1:8000, [::1]:8000 or localhost:8000).");
        return null;
    }
}
