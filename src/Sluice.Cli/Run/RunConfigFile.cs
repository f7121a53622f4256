using System.Text.Json;
using Sluice.Cli.Common;
using Sluice.Providers;
using Sluice.Text;

namespace Sluice.Cli.Run;

/// <summary>
/// Settings of <c>sluice run</c> from a JSON file (<c>--config FILE</c>), the lowest precedence: an option wins over
/// an environment variable, which wins over the file. Keys: <c>base_url</c>, <c>api_key_env</c>, <c>provider</c>,
/// <c>rpm</c>, <c>tpm</c>, <c>concurrency</c> (a number or "auto"), <c>max_attempts</c>, <c>timeout</c> (a duration),
/// <c>redis</c> (host:port, a configuration string or a redis:// URL: budgets, and with --batch the batch, shared),
/// <c>prices</c> (a price file), <c>max_spend</c> (US dollars, a number or a string such as "5.00"), <c>cache</c> (the
/// response cache's file), <c>cache_max_size</c> ("500MB") and <c>cache_max_age</c> ("30d").
/// The file names the key's variable, never the key. Any mistake — bad JSON, an unknown key, a bad value — is a
/// <see cref="FormatException"/> naming the file and the key.
/// </summary>
internal sealed record RunConfigFile
{
    private static readonly string[] Keys = ["base_url", "api_key_env", "provider", "rpm", "tpm", "concurrency", "max_attempts", "timeout", "redis", "prices", "max_spend", "cache", "cache_max_size", "cache_max_age"];

    public string? BaseUrl { get; init; }

    public string? ApiKeyEnv { get; init; }

    public ProviderKind? Provider { get; init; }

    public int? RequestsPerMinute { get; init; }

    public int? TokensPerMinute { get; init; }

    public int? Concurrency { get; init; }

    public int? MaxAttempts { get; init; }

    public TimeSpan? Timeout { get; init; }

    /// <summary>Where Redis is; it may hold a password, so it is never shown.</summary>
    public string? Redis { get; init; }

    /// <summary>A price file over the shipped table.</summary>
    public string? Prices { get; init; }

    /// <summary>The run's cost cap in US dollars.</summary>
    public decimal? MaxSpend { get; init; }

    /// <summary>The response cache's file.</summary>
    public string? Cache { get; init; }

    /// <summary>The most the response cache may hold on disk, in bytes.</summary>
    public long? CacheMaxBytes { get; init; }

    /// <summary>How long a cached answer is used.</summary>
    public TimeSpan? CacheMaxAge { get; init; }

    public static RunConfigFile Empty { get; } = new();

    public static RunConfigFile Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"cannot read the config file {path}: {exception.Message}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException exception)
        {
            throw new FormatException($"the config file {path} is not valid JSON: {exception.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"the config file {path} must hold one JSON object");
            }

            var config = new RunConfigFile();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                string where = $"config file {path}: \"{property.Name}\"";
                var value = property.Value;
                config = property.Name switch
                {
                    "base_url" => config with { BaseUrl = String(value, where) },
                    "api_key_env" => config with { ApiKeyEnv = String(value, where) },
                    "provider" => config with { Provider = ParseProvider(String(value, where), where) },
                    "rpm" => config with { RequestsPerMinute = Positive(value, where) },
                    "tpm" => config with { TokensPerMinute = Positive(value, where) },
                    "concurrency" => config with { Concurrency = value.ValueKind == JsonValueKind.String && String(value, where) == "auto" ? null : Positive(value, where) },
                    "max_attempts" => config with { MaxAttempts = Positive(value, where) },
                    "timeout" => config with { Timeout = Duration(String(value, where), where) },
                    "redis" => config with { Redis = String(value, where) },
                    "prices" => config with { Prices = String(value, where) },
                    "max_spend" => config with { MaxSpend = Amount(value, where) },
                    "cache" => config with { Cache = String(value, where) },
                    "cache_max_size" => config with { CacheMaxBytes = Size(String(value, where), where) },
                    "cache_max_age" => config with { CacheMaxAge = LongDuration(String(value, where), where) },
                    _ => throw new FormatException($"config file {path}: unknown setting \"{property.Name}\" (known: {string.Join(", ", Keys)})"),
                };
            }

            return config;
        }
    }

    private static string String(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : throw new FormatException($"{where} must be a non-empty string, not {value.GetRawText()}");

    private static int Positive(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int number) && number >= 1
            ? number
            : throw new FormatException($"{where} must be a whole number at least 1, not {value.GetRawText()}");

    private static TimeSpan Duration(string text, string where) =>
        DurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new FormatException($"{where}: '{text}' is not a duration; write it like 500ms, 10s, 2m or 1h");

    // A number (5, 5.25) or a string ("5.00", "$5"), so a cap can be written as money is.
    private static decimal Amount(JsonElement value, string where)
    {
        string text = value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText();
        return value.ValueKind is JsonValueKind.Number or JsonValueKind.String && SpendAmountText.TryParsePositive(text, out decimal amount)
            ? amount
            : throw new FormatException(SpendAmountText.Problem(where, value.ValueKind == JsonValueKind.String ? text : value.GetRawText()));
    }

    private static long Size(string text, string where) =>
        ByteSizeText.TryParse(text, out long bytes)
            ? bytes
            : throw new FormatException($"{where}: '{text}' is not a size; write it like 500MB or 1GB");

    private static TimeSpan LongDuration(string text, string where) =>
        LongDurationText.TryParse(text, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new FormatException($"{where}: '{text}' is not a duration more than 0; write it like 30d, 12h or 90m");

    private static ProviderKind ParseProvider(string text, string where) => text.ToLowerInvariant() switch
    {
        "openai" => ProviderKind.OpenAI,
        "azure" => ProviderKind.AzureOpenAI,
        "anthropic" => ProviderKind.Anthropic,
        "compatible" => ProviderKind.OpenAICompatible,
        _ => throw new FormatException($"{where} must be openai, azure, anthropic or compatible, not '{text}'"),
    };
}
