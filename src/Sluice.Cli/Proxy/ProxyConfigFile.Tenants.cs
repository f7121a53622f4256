using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Sluice.Cli.Proxy;

/// <summary>
/// The config file's <c>tenants</c>: <c>[{"name": "app", "key_sha256": "…" | "key_env": "APP_KEY", "weight": 3,
/// "priority": 1, "rpm": 100, "tpm": 50000, "concurrency": 4, "max_spend_per_day": 5}]</c>. Every mistake names the
/// file (or variable), the tenant by index and name, and the setting; never a key (a key_env's value is read later,
/// by the resolver, and only its hash is kept).
/// </summary>
internal sealed partial record ProxyConfigFile
{
    private static readonly string[] TenantKeys = ["name", "key_sha256", "key_env", "weight", "priority", "rpm", "tpm", "concurrency", "max_spend_per_day"];

    /// <summary>The largest weight, as the gate allows.</summary>
    public const double MaxTenantWeight = 1000;

    /// <summary>The largest priority either way, as the proxy allows.</summary>
    public const int MaxTenantPriority = 100;

    private sealed partial class Reader
    {
        private List<TenantConfig> Tenants()
        {
            var tenants = new List<TenantConfig>();
            foreach (var section in root.GetSection("tenants").GetChildren())
            {
                string index = section.Key;
                string? name = Text(section, "name");
                string at = name is null ? $"tenant {index}" : $"tenant {index} ('{Clip(name)}')";
                foreach (var child in section.GetChildren())
                {
                    if (!TenantKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                    {
                        throw new FormatException($"{Source(child.Path)}: {at}: unknown setting \"{child.Key}\" (known: {string.Join(", ", TenantKeys)})");
                    }
                }

                string Where(string key) => $"{Source(section.Path + ":" + key)}: {at}: setting \"{key}\"";

                if (name is null || name.Length > 64 || name.Any(char.IsControl))
                {
                    throw new FormatException($"{Where("name")} must be 1 to 64 printable characters{(name is null ? "; every tenant needs a name" : "")}");
                }

                if (string.Equals(name, "default", StringComparison.OrdinalIgnoreCase))
                {
                    throw new FormatException($"{Where("name")}: 'default' is the name of requests of no tenant; choose another");
                }

                if (tenants.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)) is { } same)
                {
                    throw new FormatException($"{Where("name")}: the name '{Clip(name)}' is already tenant {same.Index}'s (names are compared ignoring case)");
                }

                string? hash = Text(section, "key_sha256");
                string? keyEnv = Text(section, "key_env");
                if (hash is not null && keyEnv is not null)
                {
                    throw new FormatException($"{Source(section.Path)}: {at}: give key_sha256 or key_env, not both");
                }

                if (hash is not null && (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit)))
                {
                    // A key pasted here by mistake must not be shown: its length says enough.
                    throw new FormatException($"{Where("key_sha256")} must be 64 hex digits, the SHA-256 of the key ('sluice proxy hash-key' prints it), not a value of {hash.Length} characters");
                }

                hash = hash?.ToLowerInvariant();
                if (hash is not null && tenants.FirstOrDefault(t => t.KeySha256 == hash) is { } sameKey)
                {
                    throw new FormatException($"{Where("key_sha256")}: the same key as tenant {sameKey.Index} ('{Clip(sameKey.Name)}'): a key must name one tenant");
                }

                if (keyEnv is not null && tenants.FirstOrDefault(t => string.Equals(t.KeyEnv, keyEnv, StringComparison.Ordinal)) is { } sameEnv)
                {
                    throw new FormatException($"{Where("key_env")}: {keyEnv} is already tenant {sameEnv.Index}'s ('{Clip(sameEnv.Name)}'): a key must name one tenant");
                }

                double weight = 1;
                if (Text(section, "weight") is { } weightText &&
                    !(double.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out weight) && weight > 0 && weight <= MaxTenantWeight))
                {
                    throw new FormatException($"{Where("weight")} must be a number more than 0 and at most {MaxTenantWeight}, not '{weightText}'");
                }

                int priority = 0;
                if (Text(section, "priority") is { } priorityText &&
                    !(int.TryParse(priorityText, NumberStyles.Integer, CultureInfo.InvariantCulture, out priority) && priority is >= -MaxTenantPriority and <= MaxTenantPriority))
                {
                    throw new FormatException($"{Where("priority")} must be a whole number from {-MaxTenantPriority} to {MaxTenantPriority}, not '{priorityText}'");
                }

                tenants.Add(new TenantConfig(index, name)
                {
                    KeySha256 = hash,
                    KeyEnv = keyEnv,
                    Weight = weight,
                    Priority = priority,
                    RequestsPerMinute = TenantPositive(section, "rpm", Where),
                    TokensPerMinute = TenantPositive(section, "tpm", Where),
                    Concurrency = TenantPositive(section, "concurrency", Where),
                    MaxSpendPerDay = Text(section, "max_spend_per_day") is not { } usd ? null
                        : ProxyValueText.TryParseUsd(usd, out decimal amount) ? amount
                        : throw new FormatException($"{Where("max_spend_per_day")} must be an amount in USD more than 0 (such as 5 or 0.50), not '{usd}'"),
                });
            }

            return tenants;
        }

        private static int? TenantPositive(IConfiguration section, string key, Func<string, string> where) =>
            Text(section, key) is not { } text ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1 ? value
            : throw new FormatException($"{where(key)} must be a whole number at least 1, not '{text}'");

        // A name quoted in a message: what a file says must not size the message.
        private static string Clip(string name) => name.Length <= 64 ? name : name[..64] + "…";
    }
}

/// <summary>
/// One tenant as the config file gives it: <see cref="Index"/> is its place in the list, for messages. Its key is a
/// hash (<see cref="KeySha256"/>, lower case) or a variable to read and hash at start (<see cref="KeyEnv"/>), never a key.
/// </summary>
internal sealed record TenantConfig(string Index, string Name)
{
    public string? KeySha256 { get; init; }

    public string? KeyEnv { get; init; }

    public double Weight { get; init; } = 1;

    public int Priority { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    public int? Concurrency { get; init; }

    public decimal? MaxSpendPerDay { get; init; }
}
