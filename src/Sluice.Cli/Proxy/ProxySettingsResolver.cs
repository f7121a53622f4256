using System.Globalization;
using System.Net;
using Sluice.Cli.Common;

using Sluice.Providers;
using Sluice.Proxy;
using Sluice.Redis.Connection;
using Sluice.Spend;

namespace Sluice.Cli.Proxy;

/// <summary>
/// Turns options, <c>SLUICE_PROXY_*</c> variables and the config file into checked <see cref="ProxySettings"/>
/// (option &gt; variable &gt; file), reading keys from the environment. <c>--upstream</c> (or the file's
/// <c>upstream</c>) is an upstream named <c>default</c>; the file's <c>upstreams</c> add named ones. Every mistake is
/// a <see cref="FormatException"/> whose message names the option, variable or setting and the value — never a key.
/// </summary>
internal static class ProxySettingsResolver
{
    public static ProxySettings Resolve(ProxyArguments arguments, ProxyConfigFile config, Func<string, string?> environment)
    {
        var upstreams = new List<ProxyUpstream>();
        var single = config.Single;
        string? singleUrl = arguments.Upstream ?? single.Url;
        if (singleUrl is not null)
        {
            upstreams.Add(Upstream(
                single with
                {
                    Name = ProxyDefaults.UpstreamName,
                    Url = singleUrl,
                    Provider = arguments.Provider ?? single.Provider,
                    ApiKeyEnv = arguments.ApiKeyEnv ?? single.ApiKeyEnv,
                    RequestsPerMinute = arguments.RequestsPerMinute ?? single.RequestsPerMinute,
                    TokensPerMinute = arguments.TokensPerMinute ?? single.TokensPerMinute,
                    Budgets = arguments.Budgets.IsEmpty ? single.Budgets : arguments.Budgets,
                    Concurrency = arguments.Concurrency ?? single.Concurrency,
                    Spend = arguments.Spend.Or(single.Spend),
                    IsDefault = !config.Upstreams.Any(u => u.IsDefault),
                },
                arguments.Upstream is not null ? "--upstream" : "upstream",
                environment));
        }
        else if (arguments.RequestsPerMinute is not null || arguments.TokensPerMinute is not null || !arguments.Budgets.IsEmpty || arguments.Concurrency is not null ||
                 arguments.ApiKeyEnv is not null || arguments.Provider is not null || arguments.Spend != SpendAndCache.None)
        {
            throw new FormatException("--rpm, --tpm, --concurrency, --api-key-env, --provider, --max-spend-per-day, --max-spend-per-client-per-day, --cache-all and --cache-any-temperature describe --upstream; without it, set them per upstream in the config file");
        }

        foreach (var named in config.Upstreams)
        {
            if (upstreams.Any(u => string.Equals(u.Name, named.Name, StringComparison.OrdinalIgnoreCase)))
            {
                throw new FormatException($"upstreams:{named.Name}: the name '{ProxyDefaults.UpstreamName}' is taken by --upstream; choose another");
            }

            upstreams.Add(Upstream(named, $"upstreams:{named.Name}:url", environment));
        }

        if (upstreams.Count == 0)
        {
            throw new FormatException("no upstream: give --upstream URL, or a config file (--config) with \"upstream\" or \"upstreams\"");
        }

        CheckRoutes(upstreams);

        string? proxyKey = null;
        if ((arguments.ProxyKeyEnv ?? config.ProxyKeyEnv) is { } proxyKeyEnv)
        {
            proxyKey = environment(proxyKeyEnv) is { Length: > 0 } value ? value.Trim() : throw new FormatException($"no proxy key: set {proxyKeyEnv} (named by --proxy-key-env)");
            if (upstreams.FirstOrDefault(u => u.ApiKey is null) is { } keyless)
            {
                throw new FormatException($"--proxy-key-env needs the proxy to hold every upstream's key, and upstream '{keyless.Name}' has no api_key_env: clients' keys would be the proxy key");
            }
        }

        var tenants = Tenants(config, upstreams, arguments.Config, environment);
        if (proxyKey is not null && tenants.FirstOrDefault(t => t.KeySha256 == ProxyTenant.HashKey(proxyKey)) is { } proxyTenant)
        {
            throw new FormatException($"tenant '{proxyTenant.Name}' has the proxy key as its key: give it a key of its own");
        }

        string? tenantHeader = config.TenantHeader;
        if (tenantHeader is not null && (tenantHeader.Length > 100 || !tenantHeader.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_') ||
            tenantHeader.StartsWith("proxy-", StringComparison.OrdinalIgnoreCase) || ReservedHeaders.Contains(tenantHeader, StringComparer.OrdinalIgnoreCase)))
        {
            throw new FormatException($"tenant_header must be a plain header name of letters, digits and '-', not a credential or connection header, such as x-sluice-tenant; not '{(tenantHeader.Length <= 40 ? tenantHeader : tenantHeader[..40] + "…")}'");
        }

        var listen = arguments.Listen ?? (config.Listen is { } listenText ? ParseEndPoint(listenText) : ProxyDefaults.Listen);
        bool allowRemote = arguments.AllowRemote || (config.AllowRemote ?? false);
        if (!IPAddress.IsLoopback(listen.Address) && !allowRemote)
        {
            throw new FormatException($"--listen {listen} is not a loopback address; add --allow-remote to listen where other machines can reach the proxy (and set --proxy-key-env)");
        }

        var timeout = arguments.Timeout ?? config.Timeout ?? CommandDefaults.Timeout;
        if (timeout > TimeSpan.FromDays(1))
        {
            throw new FormatException($"--timeout must be at most 1 day, not {timeout}");
        }

        int maxAttempts = arguments.MaxAttempts ?? config.MaxAttempts ?? CommandDefaults.MaxAttempts;
        if (maxAttempts > 1_000)
        {
            throw new FormatException($"--max-attempts must be at most 1000, not {maxAttempts}");
        }

        int maxBody = arguments.MaxBodyMegabytes ?? config.MaxBodyMegabytes ?? ProxyDefaults.MaxRequestBodyMegabytes;
        // A body is held in one array (at most 2 GB), and for a moment twice while it is joined: 1 GB keeps every
        // size and the buffered bound below well inside what a long can count and an array can hold.
        if (maxBody > ProxyDefaults.MaxRequestBodyMegabytesLimit)
        {
            throw new FormatException($"--max-body-mb must be at most {ProxyDefaults.MaxRequestBodyMegabytesLimit}, not {maxBody}");
        }

        int? maxBufferedGiven = arguments.MaxBufferedMegabytes ?? config.MaxBufferedMegabytes;
        long maxBuffered = maxBufferedGiven ?? Math.Max(ProxyDefaults.MaxBufferedMegabytes, 2L * maxBody);
        if (maxBuffered < 2L * maxBody)
        {
            throw new FormatException($"--max-buffered-mb must be at least twice --max-body-mb ({2L * maxBody}), not {maxBuffered}");
        }

        string? redis = arguments.Redis ?? config.Redis;
        if (redis is not null)
        {
            try
            {
                RedisConnection.Parse(redis);
            }
            catch (ArgumentException exception)
            {
                // Parse's message shows the address without its password.
                throw new FormatException($"{(arguments.Redis is not null ? "--redis" : "redis")}: {exception.Message.Split(" (Parameter", 2)[0]}");
            }
        }

        string? cacheFile = arguments.CacheFile ?? config.CacheFile;
        if (cacheFile is null && upstreams.FirstOrDefault(u => u.Cache) is { } caching)
        {
            throw new FormatException(caching.Name == ProxyDefaults.UpstreamName && arguments.Spend.Cache is true
                ? "--cache-all needs a cache file: add --cache FILE"
                : $"upstream '{caching.Name}' says \"cache\": true, but there is no cache file: add --cache FILE (or \"cache_file\" in the config file)");
        }

        bool cacheTuned = (arguments.CacheMaxBytes ?? config.CacheMaxBytes) is not null || (arguments.CacheMaxAge ?? config.CacheMaxAge) is not null;
        if (cacheFile is null && cacheTuned)
        {
            throw new FormatException("--cache-max-size and --cache-max-age describe the cache file: add --cache FILE (or \"cache_file\" in the config file)");
        }

        string? pricesFile = arguments.Prices ?? config.Prices;
        PriceTable? prices = null;
        if (pricesFile is not null)
        {
            string pricesSetting = arguments.Prices is not null ? "--prices" : "prices";
            if (!File.Exists(pricesFile))
            {
                throw new FormatException($"{pricesSetting}: cannot read the prices file {pricesFile}: it does not exist");
            }

            try
            {
                prices = PriceTable.Default.OverriddenBy(PriceTable.Load(pricesFile));
            }
            catch (PriceTableException exception)
            {
                // Its message names the file, the line and the offending value.
                throw new FormatException($"{pricesSetting}: {exception.Message}");
            }
        }

        return new ProxySettings
        {
            Listen = listen,
            AllowRemote = allowRemote,
            Upstreams = upstreams,
            MaxWait = arguments.MaxWait ?? config.MaxWait ?? ProxyDefaults.MaxWait,
            MaxQueue = arguments.MaxQueue ?? config.MaxQueue ?? ProxyDefaults.MaxQueue,
            MaxQueueTotal = arguments.MaxQueueTotal ?? config.MaxQueueTotal ?? ProxyDefaults.MaxQueueTotal,
            MaxPartitions = arguments.MaxPartitions ?? config.MaxPartitions ?? ProxyDefaults.MaxPartitions,
            PartitionIdle = arguments.PartitionIdle ?? config.PartitionIdle ?? ProxyDefaults.PartitionIdle,
            MaxModels = arguments.MaxModels ?? config.MaxModels ?? ProxyDefaults.MaxModels,
            MaxRequestBodyBytes = maxBody * 1024L * 1024L,
            MaxBufferedRequestBytes = maxBuffered * 1024L * 1024L,
            MaxAttempts = maxAttempts,
            Timeout = timeout,
            DrainTimeout = arguments.DrainTimeout ?? config.DrainTimeout ?? ProxyDefaults.DrainTimeout,
            ProxyKey = proxyKey,
            Redis = redis,
            PricesFile = pricesFile,
            Prices = prices,
            CacheFile = cacheFile,
            CacheMaxBytes = arguments.CacheMaxBytes ?? config.CacheMaxBytes ?? ProxyDefaults.CacheMaxBytes,
            CacheMaxAge = arguments.CacheMaxAge ?? config.CacheMaxAge ?? ProxyDefaults.CacheMaxAge,
            Tenants = tenants,
            TenantHeader = tenantHeader,
        };
    }

    /// <summary>Headers a tenant header must not be: credentials, and what the proxy or HTTP itself owns.</summary>
    private static readonly string[] ReservedHeaders =
    [
        .. Providers.ProviderCredentials.HeaderNames, "Host", "Connection", "Content-Length", "Content-Type", "Transfer-Encoding",
        "Keep-Alive", "TE", "Trailer", "Upgrade", "Expect", "Accept-Encoding", "x-sluice-cache",
    ];

    /// <summary>
    /// The config file's tenants as the proxy takes them: a key_env's variable read and hashed now (the key itself is
    /// not kept), no key naming two tenants, and keys only where the proxy holds every upstream's own key (a tenant's
    /// key is never forwarded).
    /// </summary>
    private static List<ProxyTenant> Tenants(ProxyConfigFile config, List<ProxyUpstream> upstreams, string? path, Func<string, string?> environment)
    {
        string file = path is null ? "configuration" : $"config file {path}";
        var tenants = new List<ProxyTenant>();
        foreach (var tenant in config.Tenants)
        {
            string at = $"{file}: tenant {tenant.Index} ('{tenant.Name}')";
            string? hash = tenant.KeySha256;
            if (tenant.KeyEnv is { } variable)
            {
                hash = environment(variable) is { Length: > 0 } key
                    ? ProxyTenant.HashKey(key.Trim())
                    : throw new FormatException($"{at}: setting \"key_env\": {variable} is not set (or is empty); set it to the tenant's key, or give key_sha256 instead");
            }

            if (hash is not null && tenants.FirstOrDefault(t => t.KeySha256 == hash) is { } same)
            {
                throw new FormatException($"{at}: its key is also tenant '{same.Name}''s: a key must name one tenant");
            }

            var limits = tenant.RequestsPerMinute is null && tenant.TokensPerMinute is null && tenant.Concurrency is null
                ? null
                : new Gate.TenantLimits { MaxConcurrency = tenant.Concurrency, RequestsPerMinute = tenant.RequestsPerMinute, TokensPerMinute = tenant.TokensPerMinute };
            tenants.Add(new ProxyTenant
            {
                Name = tenant.Name,
                KeySha256 = hash,
                Weight = tenant.Weight,
                Priority = tenant.Priority,
                Limits = limits,
                MaxSpendPerDay = tenant.MaxSpendPerDay,
            });
        }

        if (tenants.FirstOrDefault(t => t.KeySha256 is not null) is { } keyed && upstreams.FirstOrDefault(u => u.ApiKey is null) is { } keyless)
        {
            throw new FormatException($"{file}: tenant '{keyed.Name}' has a key, so the proxy must hold every upstream's own key, and upstream '{keyless.Name}' has no api_key_env: a tenant's key is never forwarded, so that upstream would get none. Set api_key_env for it");
        }

        return tenants;
    }

    /// <summary>ADDRESS:PORT, localhost:PORT or PORT, as <c>--listen</c> takes it.</summary>
    public static IPEndPoint ParseEndPoint(string text)
    {
        text = text.Trim();
        if (int.TryParse(text.TrimStart(':'), NumberStyles.None, CultureInfo.InvariantCulture, out int portOnly) && portOnly <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, portOnly);
        }

        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) &&
            int.TryParse(text["localhost:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port <= 65535)
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        return IPEndPoint.TryParse(text, out var endPoint) && text.Contains(':', StringComparison.Ordinal)
            ? endPoint
            : throw new FormatException($"listen: '{text}' is not ADDRESS:PORT (for example 127.0.0.1:8787, [::1]:8787 or localhost:8787)");
    }

    private static ProxyUpstream Upstream(UpstreamConfig config, string urlSetting, Func<string, string?> environment)
    {
        string name = config.Name;
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new FormatException($"upstreams: '{name}' is not a usable upstream name (letters, digits, - and _)");
        }

        if (config.Url is null)
        {
            throw new FormatException($"{urlSetting}: every upstream needs a url");
        }

        var url = BaseUrl.TryParse(config.Url, out string? problem) ?? throw new FormatException($"{urlSetting}: {problem}");
        string? key = null;
        if (config.ApiKeyEnv is { } variable)
        {
            key = environment(variable) is { Length: > 0 } value
                ? value.Trim()
                : throw new FormatException($"no API key for upstream '{name}': set {variable} (named by {(name == ProxyDefaults.UpstreamName ? "--api-key-env" : $"upstreams:{name}:api_key_env")}), or leave api_key_env out to pass clients' keys through");
        }

        if (config.Prefix is { } prefix && (!prefix.StartsWith('/') || prefix.EndsWith('/') || prefix.Length < 2 ||
            prefix.StartsWith("/v1", StringComparison.OrdinalIgnoreCase) || !IsPlainPath(prefix)))
        {
            throw new FormatException($"upstreams:{name}:prefix must look like /{name}: one or more path segments, not /v1, without a trailing slash; not '{prefix}'");
        }

        foreach (string path in config.Paths)
        {
            if (!path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                throw new FormatException($"upstreams:{name}:paths: '{path}' must be a path under /v1/, such as /v1/messages");
            }
        }

        return new ProxyUpstream
        {
            Name = name,
            Url = url,
            Provider = config.Provider ?? Providers.ProviderKind.OpenAI,
            ApiKeyEnv = config.ApiKeyEnv,
            ApiKey = key,
            RequestsPerMinute = config.RequestsPerMinute,
            TokensPerMinute = config.TokensPerMinute,
            InputTokensPerMinute = config.Budgets.InputTokensPerMinute,
            OutputTokensPerMinute = config.Budgets.OutputTokensPerMinute,
            RequestsPerDay = config.Budgets.RequestsPerDay,
            TokensPerDay = config.Budgets.TokensPerDay,
            Concurrency = config.Concurrency,
            Models = config.Models,
            Prefix = config.Prefix,
            Paths = config.Paths,
            IsDefault = config.IsDefault,
            MaxSpendPerDay = config.Spend.MaxSpendPerDay,
            MaxSpendPerClientPerDay = config.Spend.MaxSpendPerClientPerDay,
            Cache = config.Spend.Cache ?? false,
            CacheAnyTemperature = config.Spend.CacheAnyTemperature ?? false,
        };
    }

    private static void CheckRoutes(List<ProxyUpstream> upstreams)
    {
        if (upstreams.Count(u => u.IsDefault) > 1)
        {
            throw new FormatException($"only one upstream may be the default; these say \"default\": true: {string.Join(", ", upstreams.Where(u => u.IsDefault).Select(u => u.Name))}");
        }

        var prefixes = upstreams.Where(u => u.Prefix is not null).GroupBy(u => u.Prefix!, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (prefixes is not null)
        {
            throw new FormatException($"upstreams {string.Join(" and ", prefixes.Select(u => u.Name))} share the prefix {prefixes.Key}");
        }

        var models = upstreams.SelectMany(u => u.Models.Select(m => (Upstream: u.Name, m.Pattern)))
            .GroupBy(m => m.Pattern, StringComparer.OrdinalIgnoreCase)
            .FirstOrDefault(g => g.Select(m => m.Upstream).Distinct(StringComparer.OrdinalIgnoreCase).Count() > 1);
        if (models is not null)
        {
            throw new FormatException($"model '{models.Key}' is listed by upstreams {string.Join(" and ", models.Select(m => m.Upstream))}: a model routes to one upstream");
        }
    }

    // Path segments of letters, digits, '-', '_' and '.', never "." or "..": a prefix cannot smuggle an escape or a query.
    private static bool IsPlainPath(string prefix) =>
        prefix.Split('/')[1..].All(segment => segment.Length > 0 && segment is not "." and not ".." &&
            segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
}
