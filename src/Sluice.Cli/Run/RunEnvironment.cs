using System.Globalization;
using Sluice.Cli.Common;
using Sluice.Text;

namespace Sluice.Cli.Run;

/// <summary>
/// Settings of <c>sluice run</c> read from environment variables (<c>SLUICE_RPM</c>, <c>SLUICE_TPM</c>,
/// <c>SLUICE_CONCURRENCY</c>, <c>SLUICE_MAX_ATTEMPTS</c>, <c>SLUICE_TIMEOUT</c>, <c>SLUICE_PRICES</c>,
/// <c>SLUICE_MAX_SPEND</c>, <c>SLUICE_CACHE</c>) when the option is not given. A value
/// that does not parse is a usage error naming the variable, never silently ignored.
/// </summary>
internal static class RunEnvironment
{
    public static int? PositiveInt(string name)
    {
        string? text = Read(name);
        if (text is null)
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1
            ? value
            : throw new FormatException($"{name} must be a whole number at least 1, not '{text}'");
    }

    /// <summary>An amount in US dollars more than 0 (<c>SLUICE_MAX_SPEND</c>).</summary>
    public static decimal? Amount(string name)
    {
        string? text = Read(name);
        if (text is null)
        {
            return null;
        }

        return SpendAmountText.TryParsePositive(text, out decimal amount)
            ? amount
            : throw new FormatException(SpendAmountText.Problem(name, text));
    }

    /// <summary>A number, or <c>auto</c> (null: the default cap).</summary>
    public static int? Concurrency(string name) =>
        string.Equals(Read(name), "auto", StringComparison.OrdinalIgnoreCase) ? null : PositiveInt(name);

    public static TimeSpan? Duration(string name)
    {
        string? text = Read(name);
        if (text is null)
        {
            return null;
        }

        return DurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new FormatException($"{name}: '{text}' is not a duration; write it like 500ms, 10s, 2m or 1h");
    }

    /// <summary>
    /// <c>SLUICE_REDIS_GATE=local</c>: with <c>--redis</c>, keep each process's budgets in the process (the batch is still
    /// shared). For diagnosis, and for tests of the batch alone.
    /// </summary>
    public static bool LocalGate => string.Equals(Read("SLUICE_REDIS_GATE"), "local", StringComparison.OrdinalIgnoreCase);

    /// <summary>A variable's trimmed text; null when unset or empty.</summary>
    public static string? Text(string name) => Read(name);

    private static string? Read(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? text.Trim() : null;
}
