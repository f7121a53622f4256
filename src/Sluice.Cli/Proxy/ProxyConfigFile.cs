using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Sluice.Cli.Common;
using Sluice.Providers;
using Sluice.Proxy;
using Sluice.Text;

namespace Sluice.Cli.Proxy;

/// <summary>
/// Settings of <c>sluice proxy</c> from configuration: a JSON file (<c>--config FILE</c>, optional) overridden by
/// <c>SLUICE_PROXY_*</c> environment variables (<c>__</c> for nesting: <c>SLUICE_PROXY_UPSTREAMS__OPENAI__RPM=500</c>),
/// read with Microsoft.Extensions.Configuration. Options on the command line win over both. Keys are snake_case, as in
/// <c>sluice run</c>'s file; docs/proxy.md lists them. Any mistake — bad JSON, an unknown setting, a bad value — is a
/// <see cref="FormatException"/> naming the file or variable and the setting.
/// </summary>
internal sealed partial record ProxyConfigFile
{
    public const string EnvironmentPrefix = "SLUICE_PROXY_";

    private static readonly string[] TopKeys =
    [
        "listen", "allow_remote", "upstream", "provider", "api_key_env", "rpm", "tpm", "input_tpm", "output_tpm", "rpd", "tpd", "concurrency", "max_wait", "max_queue",
        "max_queue_total", "max_partitions", "partition_idle", "max_models", "max_body_mb", "max_buffered_mb", "max_attempts", "timeout", "drain_timeout", "proxy_key_env", "redis", "upstreams",
        "max_spend_per_day", "max_spend_per_client_per_day", "cache", "cache_any_temperature", "prices", "cache_file", "cache_max_size", "cache_max_age",
        "tenants", "tenant_header",
    ];

    private static readonly string[] UpstreamKeys = ["url", "provider", "api_key_env", "rpm", "tpm", "input_tpm", "output_tpm", "rpd", "tpd", "concurrency", "prefix", "paths", "models", "default",
        "max_spend_per_day", "max_spend_per_client_per_day", "cache", "cache_any_temperature"];

    private static readonly string[] ModelKeys = ["rpm", "tpm", "concurrency"];

    public string? Listen { get; init; }

    public bool? AllowRemote { get; init; }

    /// <summary>The single upstream's settings, as the options give them (<c>upstream</c>, <c>rpm</c>, …).</summary>
    public UpstreamConfig Single { get; init; } = new("");

    public TimeSpan? MaxWait { get; init; }

    public int? MaxQueue { get; init; }

    public int? MaxQueueTotal { get; init; }

    public int? MaxPartitions { get; init; }

    public TimeSpan? PartitionIdle { get; init; }

    public int? MaxModels { get; init; }

    public int? MaxBodyMegabytes { get; init; }

    public int? MaxBufferedMegabytes { get; init; }

    public int? MaxAttempts { get; init; }

    public TimeSpan? Timeout { get; init; }

    public TimeSpan? DrainTimeout { get; init; }

    public string? ProxyKeyEnv { get; init; }

    /// <summary>Where Redis is (<c>redis</c>, or <c>SLUICE_PROXY_REDIS</c>); may hold a password, so never shown.</summary>
    public string? Redis { get; init; }

    public IReadOnlyList<UpstreamConfig> Upstreams { get; init; } = [];

    /// <summary>A prices file (<c>prices</c>) overriding the price table shipped with Sluice.</summary>
    public string? Prices { get; init; }

    /// <summary>The response cache's file (<c>cache_file</c>); the cache is used only by upstreams and requests that opt in.</summary>
    public string? CacheFile { get; init; }

    /// <summary>The cache's size cap in bytes (<c>cache_max_size</c>).</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary>How long a cached answer is kept (<c>cache_max_age</c>).</summary>
    public TimeSpan? CacheMaxAge { get; init; }

    /// <summary>The tenants (<c>tenants</c>), in the file's order, checked one by one and against each other.</summary>
    public IReadOnlyList<TenantConfig> Tenants { get; init; } = [];

    /// <summary>The header naming a request's tenant (<c>tenant_header</c>).</summary>
    public string? TenantHeader { get; init; }

    /// <summary>Reads the file (when given) and the <c>SLUICE_PROXY_*</c> variables.</summary>
    public static ProxyConfigFile Read(string? path, IDictionary<string, string?>? environment = null)
    {
        var builder = new ConfigurationBuilder();
        if (path is not null)
        {
            string full = Path.GetFullPath(path);
            if (!File.Exists(full))
            {
                throw new FormatException($"cannot read the config file {path}: it does not exist");
            }

            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
        }

        if (environment is null)
        {
            builder.AddEnvironmentVariables(EnvironmentPrefix);
        }
        else
        {
            // Tests pass variables explicitly, as the environment provider would read them.
            builder.AddInMemoryCollection(environment
                .Where(v => v.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
                .Select(v => KeyValuePair.Create(v.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), v.Value)));
        }

        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception exception) when (exception is FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            string detail = exception.InnerException?.Message ?? exception.Message;
            throw new FormatException($"the config file {path} is not valid JSON: {detail}");
        }

        return new Reader(root, path).Read();
    }

    /// <summary>Walks a configuration tree, checking every key and value and naming where a bad one came from.</summary>
    private sealed partial class Reader(IConfigurationRoot root, string? path)
    {
        public ProxyConfigFile Read()
        {
            CheckKeys(root, TopKeys, "");
            return new ProxyConfigFile
            {
                Listen = Text(root, "listen"),
                AllowRemote = Bool(root, "allow_remote"),
                Single = Upstream(root, "", urlKey: "upstream"),
                MaxWait = Duration(root, "max_wait"),
                MaxQueue = Positive(root, "max_queue"),
                MaxQueueTotal = Positive(root, "max_queue_total"),
                MaxPartitions = Positive(root, "max_partitions"),
                PartitionIdle = Duration(root, "partition_idle"),
                MaxModels = NonNegative(root, "max_models"),
                MaxBodyMegabytes = Positive(root, "max_body_mb"),
                MaxBufferedMegabytes = Positive(root, "max_buffered_mb"),
                MaxAttempts = Positive(root, "max_attempts"),
                Timeout = Duration(root, "timeout"),
                DrainTimeout = Duration(root, "drain_timeout"),
                ProxyKeyEnv = Text(root, "proxy_key_env"),
                Redis = Text(root, "redis"),
                Prices = Text(root, "prices"),
                CacheFile = Text(root, "cache_file"),
                CacheMaxBytes = Size(root, "cache_max_size"),
                CacheMaxAge = LongDuration(root, "cache_max_age"),
                Tenants = Tenants(),
                TenantHeader = Text(root, "tenant_header"),
                Upstreams = [.. root.GetSection("upstreams").GetChildren().Select(section =>
                {
                    CheckKeys(section, UpstreamKeys, section.Path + ":");
                    return Upstream(section, section.Key, urlKey: "url");
                })],
            };
        }

        private UpstreamConfig Upstream(IConfiguration section, string name, string urlKey) => new(name)
        {
            Url = Text(section, urlKey),
            Provider = Text(section, "provider") is { } provider ? Provider(provider, Where(section, "provider")) : null,
            ApiKeyEnv = Text(section, "api_key_env"),
            RequestsPerMinute = Positive(section, "rpm"),
            TokensPerMinute = Positive(section, "tpm"),
            Budgets = new ExtraBudgets(Positive(section, "input_tpm"), Positive(section, "output_tpm"), Positive(section, "rpd"), Positive(section, "tpd")),
            Concurrency = Concurrency(section, "concurrency"),
            Prefix = Text(section, "prefix"),
            Paths = [.. section.GetSection("paths").GetChildren().Select(p => p.Value ?? "")],
            IsDefault = Bool(section, "default") ?? false,
            Spend = new SpendAndCache(Usd(section, "max_spend_per_day"), Usd(section, "max_spend_per_client_per_day"), Bool(section, "cache"), Bool(section, "cache_any_temperature")),
            Models = [.. section.GetSection("models").GetChildren().Select(model =>
            {
                CheckKeys(model, ModelKeys, model.Path + ":");
                return new ModelBudget(model.Key, Positive(model, "rpm"), Positive(model, "tpm"), Concurrency(model, "concurrency"));
            })],
        };

        private void CheckKeys(IConfiguration section, string[] known, string prefix)
        {
            foreach (var child in section.GetChildren())
            {
                if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                {
                    throw new FormatException($"{Source(prefix + child.Key)}: unknown setting \"{prefix + child.Key}\" (known: {string.Join(", ", known)})");
                }
            }
        }

        private static string? Text(IConfiguration section, string key) => section[key] is { Length: > 0 } text ? text.Trim() : null;

        private int? Positive(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 1 ? value
            : throw new FormatException($"{Where(section, key)} must be a whole number at least 1, not '{text}'");

        private decimal? Usd(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : ProxyValueText.TryParseUsd(text, out decimal amount) ? amount
            : throw new FormatException($"{Where(section, key)} must be an amount in USD more than 0 (such as 5 or 0.50), not '{text}'");

        private long? Size(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : ProxyValueText.TryParseSize(text, out long bytes) ? bytes
            : throw new FormatException($"{Where(section, key)} must be a size of at least 1MB, written like 500MB or 2GB, not '{text}'");

        private int? NonNegative(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= 0 ? value
            : throw new FormatException($"{Where(section, key)} must be a whole number 0 or more, not '{text}'");

        private int? Concurrency(IConfiguration section, string key) =>
            string.Equals(Text(section, key), "auto", StringComparison.OrdinalIgnoreCase) ? null : Positive(section, key);

        private bool? Bool(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : bool.TryParse(text, out bool value) ? value
            : throw new FormatException($"{Where(section, key)} must be true or false, not '{text}'");

        private TimeSpan? Duration(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : DurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero ? duration
            : throw new FormatException($"{Where(section, key)}: '{text}' is not a duration; write it like 500ms, 10s, 2m or 1h");

        // A cache's age is days more often than hours: 30d, like sluice run's --cache-max-age.
        private TimeSpan? LongDuration(IConfiguration section, string key) =>
            Text(section, key) is not { } text ? null
            : LongDurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero ? duration
            : throw new FormatException($"{Where(section, key)}: '{text}' is not a duration; write it like 30d, 12h, 90m or 1d12h");

        private static ProviderKind Provider(string text, string where) => text.ToLowerInvariant() switch
        {
            "openai" => ProviderKind.OpenAI,
            "azure" => ProviderKind.AzureOpenAI,
            "anthropic" => ProviderKind.Anthropic,
            "compatible" => ProviderKind.OpenAICompatible,
            _ => throw new FormatException($"{where} must be openai, azure, anthropic or compatible, not '{text}'"),
        };

        private string Where(IConfiguration section, string key)
        {
            string full = section is IConfigurationSection s ? $"{s.Path}:{key}" : key;
            return $"{Source(full)}: setting \"{full}\"";
        }

        // The last provider holding a key is the one whose value counts: name it.
        private string Source(string key)
        {
            foreach (var provider in root.Providers.Reverse())
            {
                if (provider.TryGet(key, out _) || provider.GetChildKeys([], key).Any())
                {
                    return provider is EnvironmentVariablesConfigurationProvider or Microsoft.Extensions.Configuration.Memory.MemoryConfigurationProvider
                        ? $"environment variable {EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant()}"
                        : $"config file {path}";
                }
            }

            return path is null ? "configuration" : $"config file {path}";
        }
    }
}

/// <summary>One upstream as configuration gives it, before checks; <see cref="Name"/> is empty for the single upstream.</summary>
internal sealed record UpstreamConfig(string Name)
{
    public string? Url { get; init; }

    public ProviderKind? Provider { get; init; }

    public string? ApiKeyEnv { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    /// <summary><c>input_tpm</c>, <c>output_tpm</c>, <c>rpd</c>, <c>tpd</c>.</summary>
    public ExtraBudgets Budgets { get; init; } = ExtraBudgets.None;

    public int? Concurrency { get; init; }

    public string? Prefix { get; init; }

    public IReadOnlyList<string> Paths { get; init; } = [];

    public IReadOnlyList<ModelBudget> Models { get; init; } = [];

    public bool IsDefault { get; init; }

    /// <summary><c>max_spend_per_day</c>, <c>max_spend_per_client_per_day</c>, <c>cache</c>, <c>cache_any_temperature</c>.</summary>
    public SpendAndCache Spend { get; init; } = SpendAndCache.None;
}

/// <summary>An upstream's spend caps (USD per UTC day) and cache settings, as configuration or options give them; null when not given.</summary>
internal sealed record SpendAndCache(decimal? MaxSpendPerDay, decimal? MaxSpendPerClientPerDay, bool? Cache, bool? CacheAnyTemperature)
{
    public static readonly SpendAndCache None = new(null, null, null, null);

    /// <summary>These settings where given, else <paramref name="fallback"/>'s, one by one.</summary>
    public SpendAndCache Or(SpendAndCache fallback) => new(
        MaxSpendPerDay ?? fallback.MaxSpendPerDay,
        MaxSpendPerClientPerDay ?? fallback.MaxSpendPerClientPerDay,
        Cache ?? fallback.Cache,
        CacheAnyTemperature ?? fallback.CacheAnyTemperature);
}
