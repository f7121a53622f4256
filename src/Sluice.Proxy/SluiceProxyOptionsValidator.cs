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

        ValidateTenants(options, problems);

        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }

    /// <summary>The tenants' rules: names, keys' hashes, weights, priorities, limits, the header, and who holds the upstreams' keys.</summary>
    private static void ValidateTenants(SluiceProxyOptions options, List<string> problems)
    {
        if (options.Tenants.Count > MaxTenants)
        {
            problems.Add($"Tenants: at most {MaxTenants} tenants may be configured, not {options.Tenants.Count}.");
        }

        for (int i = 0; i < options.Tenants.Count; i++)
        {
            var tenant = options.Tenants[i];
            if (tenant is null)
            {
                problems.Add($"Tenants[{i}]: a tenant is needed, not null.");
                continue;
            }

            string at = TenantNames.IsValid(tenant.Name) ? $"Tenants[{i}] '{tenant.Name}'" : $"Tenants[{i}]";
            if (!TenantNames.IsValid(tenant.Name))
            {
                problems.Add($"{at}: Name must be 1 to {TenantNames.MaxLength} printable characters, without leading or trailing spaces.");
            }

            if (string.Equals(tenant.Name, RetryAfterEstimate.DefaultTenant, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{at}: the name '{RetryAfterEstimate.DefaultTenant}' is the gate's own, for requests of no tenant: choose another.");
            }

            if (tenant.KeySha256 is { } hash && !IsSha256Hex(hash))
            {
                // The hash is not the key, yet a key pasted here by mistake must not reach a log: its length is enough.
                problems.Add($"{at}: KeySha256 must be 64 hex digits (a SHA-256, from 'sluice proxy hash-key'), not a value of {hash.Length} characters.");
            }

            if (!(tenant.Weight > 0 && tenant.Weight <= MaxWeight))
            {
                problems.Add($"{at}: Weight must be more than 0 and at most {MaxWeight}, not {tenant.Weight}.");
            }

            if (tenant.Priority is < -MaxPriority or > MaxPriority)
            {
                problems.Add($"{at}: Priority must be from {-MaxPriority} to {MaxPriority}, not {tenant.Priority}.");
            }

            if (tenant.MaxSpendPerDay is { } perDay && perDay <= 0)
            {
                problems.Add($"{at}: MaxSpendPerDay must be more than 0 USD when set, not {perDay}.");
            }
        }

        var tenants = options.Tenants.Where(t => t is not null).ToList();
        if (tenants.GroupBy(t => t.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } sameName)
        {
            problems.Add($"Tenants: the name '{sameName.Key}' is used twice (names are compared ignoring case).");
        }

        if (tenants.Where(t => t.KeySha256 is not null).GroupBy(t => t.KeySha256!, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } sameKey)
        {
            problems.Add($"Tenants: tenants {string.Join(" and ", sameKey.Select(t => $"'{t.Name}'"))} have the same key: a key must name one tenant.");
        }

        if (tenants.Any(t => t.KeySha256 is not null) && options.Upstreams.FirstOrDefault(u => u.ApiKey is null) is { } keyless)
        {
            problems.Add($"Tenants: tenants with keys need the proxy to hold every upstream's key (ApiKey, api_key_env), and upstream '{keyless.Name}' has none: a tenant's key is never forwarded, so that upstream would get no key.");
        }

        if (options.TenantHeader is { } header && (header.Length is 0 or > 100 || !header.All(IsTokenChar) || IsReservedHeader(header)))
        {
            problems.Add($"TenantHeader must be a plain header name (letters, digits, '-'), not a credential or hop-by-hop header, such as x-sluice-tenant; not '{ProxyErrors.Quote(header, 40)}'.");
        }
    }

    /// <summary>The most tenants a configuration may list: the gate tracks 1,000 per partition (GateOptions.MaxTenants).</summary>
    internal const int MaxTenants = 900;

    /// <summary>The largest tenant weight, as the gate allows (GateTenant.Weight).</summary>
    internal const double MaxWeight = 1000;

    /// <summary>The largest priority either way: with aging at one step per 10 s, 100 steps are already over 16 minutes.</summary>
    internal const int MaxPriority = 100;

    internal static bool IsSha256Hex(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigit);

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static bool IsReservedHeader(string header) =>
        Sluice.Providers.ProviderCredentials.HeaderNames.Contains(header, StringComparer.OrdinalIgnoreCase) ||
        !ProxyHeaders.Forwarded(header, default, null) ||
        string.Equals(header, ProxyCacheDirective.HeaderName, StringComparison.OrdinalIgnoreCase);
}
