using Microsoft.Extensions.Options;

namespace Sluice.Proxy;

/// <summary>
/// Checks proxy options before the proxy starts, naming each problem and its value (never a key), so a host fails at
/// start with every mistake listed instead of at the first request.
/// </summary>
internal sealed class SluiceProxyOptionsValidator : IValidateOptions<SluiceProxyOptions>
{
    public ValidateOptionsResult Validate(string? name, SluiceProxyOptions options)
    {
        var problems = new List<string>();
        if (options.Upstreams.Count == 0)
        {
            problems.Add("Upstreams: at least one upstream is needed.");
        }

        foreach (var upstream in options.Upstreams)
        {
            string at = $"Upstreams[{upstream.Name}]";
            if (string.IsNullOrWhiteSpace(upstream.Name) || upstream.Name.Contains('|', StringComparison.Ordinal))
            {
                problems.Add($"{at}: a name is needed, without '|'.");
            }

            if (upstream.Url is null || !upstream.Url.IsAbsoluteUri || (upstream.Url.Scheme != Uri.UriSchemeHttp && upstream.Url.Scheme != Uri.UriSchemeHttps))
            {
                problems.Add($"{at}: Url must be an absolute http:// or https:// URL.");
            }

            if (upstream.Prefix is { } prefix && (!prefix.StartsWith('/') || prefix.EndsWith('/') || prefix.StartsWith("/v1", StringComparison.OrdinalIgnoreCase) || ProxyRequestGuard.Refusal("GET", prefix + "/") is not null))
            {
                problems.Add($"{at}: Prefix must look like /{upstream.Name}, not '{prefix}'.");
            }

            if (upstream.MaxSpendPerDay is { } perDay && perDay <= 0)
            {
                problems.Add($"{at}: MaxSpendPerDay must be more than 0 USD when set, not {perDay}.");
            }

            if (upstream.MaxSpendPerClientPerDay is { } perClient && perClient <= 0)
            {
                problems.Add($"{at}: MaxSpendPerClientPerDay must be more than 0 USD when set, not {perClient}.");
            }

            if (upstream.Cache && options.Cache is null)
            {
                problems.Add($"{at}: Cache is true, but SluiceProxyOptions.Cache is not set: give the proxy a response cache.");
            }

            if (upstream.Concurrency is < 1 || upstream.RequestsPerMinute is < 1 || upstream.TokensPerMinute is < 1)
            {
                problems.Add($"{at}: Concurrency, RequestsPerMinute and TokensPerMinute must be at least 1 when set.");
            }
        }

        var duplicate = options.Upstreams.GroupBy(u => u.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            problems.Add($"Upstreams: the name '{duplicate.Key}' is used twice.");
        }

        if (options.Upstreams.Count(u => u.IsDefault) > 1)
        {
            problems.Add("Upstreams: only one upstream may be the default.");
        }

        if (options.MaxWait <= TimeSpan.Zero || options.Timeout <= TimeSpan.Zero || options.StoppedRetry < TimeSpan.Zero)
        {
            problems.Add("MaxWait and Timeout must be positive, StoppedRetry not negative.");
        }

        if (options.MaxQueue < 0 || options.MaxAttempts < 1 || options.MaxRequestBodyBytes < 1)
        {
            problems.Add("MaxQueue must not be negative; MaxAttempts and MaxRequestBodyBytes must be at least 1.");
        }

        if (options.MaxQueueTotal < 1 || options.MaxPartitions < 1 || options.MaxModels < 0)
        {
            problems.Add("MaxQueueTotal and MaxPartitions must be at least 1; MaxModels must not be negative.");
        }

        if (options.PartitionIdleTimeout <= TimeSpan.Zero)
        {
            problems.Add("PartitionIdleTimeout must be positive.");
        }

        if (options.MaxRequestBodyBytes > Array.MaxLength)
        {
            problems.Add($"MaxRequestBodyBytes must be at most {Array.MaxLength} (a body is buffered in one array), not {options.MaxRequestBodyBytes}.");
        }

        // A body's pieces (never more than the largest body) and the one array they are joined into are held together
        // for a moment: twice the largest body lets that body through when nothing else is held.
        if (options.MaxBufferedRequestBytes / 2 < options.MaxRequestBodyBytes)
        {
            problems.Add($"MaxBufferedRequestBytes ({options.MaxBufferedRequestBytes}) must be at least twice MaxRequestBodyBytes ({options.MaxRequestBodyBytes}), or the largest body could never be buffered.");
        }

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}
