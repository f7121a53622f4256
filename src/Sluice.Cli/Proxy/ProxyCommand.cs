using System.CommandLine;
using Sluice.Cli.Common;
using Sluice.Providers;


namespace Sluice.Cli.Proxy;

/// <summary>
/// <c>sluice proxy</c>: an OpenAI-compatible local gateway. Any program that can set a base URL gets Sluice's pacing:
/// requests over budget wait their turn instead of getting 429s. The options are the contract in DESIGN.md;
/// docs/proxy.md describes them and the config file.
/// </summary>
internal static class ProxyCommand
{
    public static Command Create()
    {
        var upstream = new Option<string?>("--upstream")
        {
            Description = "The upstream's base URL, with or without /v1, such as https://api.openai.com. Only ever taken from here or the config file, never from a request.",
            HelpName = "URL",
        };
        var listen = new Option<System.Net.IPEndPoint?>("--listen")
        {
            Description = $"Address and port to listen on (ADDRESS:PORT, localhost:PORT or PORT) (default: {ProxyDefaults.Listen}). Anything but loopback needs --allow-remote.",
            HelpName = "ADDRESS:PORT",
            CustomParser = OptionKinds.ParseEndPoint,
        };
        var allowRemote = new Option<bool>("--allow-remote")
        {
            Description = "Allow --listen on an address other machines can reach. Set --proxy-key-env too: anyone who reaches the proxy spends your budget.",
        };
        var rpm = OptionKinds.PositiveInt("--rpm", "The upstream's request budget per minute (default: none; learned from the provider's rate-limit headers and 429s).");
        var tpm = OptionKinds.PositiveInt("--tpm", "The upstream's token budget per minute: prompt estimate plus output cap, settled with actual usage (default: none; learned from the provider's rate-limit headers).");
        var budgets = ExtraBudgets.Options();
        var concurrency = new Option<int?>("--concurrency")
        {
            Description = $"Requests in flight at most per partition, or auto: learned from the answers — starts at 8, grows while they succeed, backs off on 503, timeouts and 429s where no rate is known — up to {CommandDefaults.AutoConcurrency}, and raised to what a binding budget needs, rate × latency × 1.5 (default: auto).",
            HelpName = "N|auto",
            CustomParser = CommonOptions.ParseConcurrency,
        };
        var apiKeyEnv = new Option<string?>("--api-key-env")
        {
            Description = "The environment variable holding the upstream's key: the proxy sends it, and clients send none. Without it, each client's own key is passed through and requests are partitioned by key. Keys never appear in logs, errors or metrics.",
            HelpName = "NAME",
        };
        var provider = new Option<ProviderKind?>("--provider")
        {
            Description = "How the upstream's answers are read and its key is sent: openai, azure, anthropic or compatible (default: openai).",
            HelpName = "openai|azure|anthropic|compatible",
            CustomParser = CommonOptions.ParseProvider,
        };
        var config = new Option<string?>("--config")
        {
            Description = $"A JSON file of settings, including several named upstreams with routes and per-model budgets (see docs/proxy.md). {ProxyConfigFile.EnvironmentPrefix}* environment variables override it, options override both.",
            HelpName = "FILE",
        };
        var maxWait = OptionKinds.Duration("--max-wait", ProxyDefaults.MaxWait,
            "The longest a request waits for its turn (time with the upstream not counted); then the client gets a 429 with an honest Retry-After.");
        var maxQueue = OptionKinds.PositiveInt("--max-queue", "Requests that may wait per partition; more get a 429 with Retry-After at once.", ProxyDefaults.MaxQueue);
        var maxQueueTotal = OptionKinds.PositiveInt("--max-queue-total", "Requests the proxy holds at once over every upstream and partition, waiting or with the upstream; more get a 503 with Retry-After at once.", ProxyDefaults.MaxQueueTotal);
        var maxPartitions = OptionKinds.PositiveInt("--max-partitions", "Partitions (client key × model group) each upstream holds at most; a request needing another gets a 503 until one has been idle for --partition-idle.", ProxyDefaults.MaxPartitions);
        var partitionIdle = OptionKinds.Duration("--partition-idle", ProxyDefaults.PartitionIdle, "How long a partition with nothing in flight or waiting is kept; then it is removed, and what it learned is learned again if it comes back.");
        var maxModels = OptionKinds.NonNegativeInt("--max-models", $"Models not listed in the config that get a partition of their own, per upstream; beyond that they share one group, (unlisted). 0 puts every unlisted model in it (default: {ProxyDefaults.MaxModels}).");
        var maxBody = OptionKinds.PositiveInt("--max-body-mb", "The largest request body accepted, in megabytes; larger ones get 413.", ProxyDefaults.MaxRequestBodyMegabytes);
        var maxBuffered = OptionKinds.PositiveInt("--max-buffered-mb", $"Request bodies held in memory at once over every client, in megabytes (at least twice --max-body-mb); a request over it gets 503 with Retry-After. Default: {ProxyDefaults.MaxBufferedMegabytes}, or twice --max-body-mb if that is more.", ProxyDefaults.MaxBufferedMegabytes);
        var maxAttempts = OptionKinds.PositiveInt("--max-attempts", "Tries per request for transient failures (5xx, resets, timeouts); 429s do not count.", CommandDefaults.MaxAttempts);
        var timeout = OptionKinds.Duration("--timeout", CommandDefaults.Timeout, "How long one try may take before it is abandoned and retried.");
        var drainTimeout = OptionKinds.Duration("--drain-timeout", ProxyDefaults.DrainTimeout, "On Ctrl-C or SIGTERM, how long requests in flight (streams included) may take to finish.");
        var proxyKeyEnv = new Option<string?>("--proxy-key-env")
        {
            Description = "The environment variable holding a key clients must present (Authorization: Bearer or x-api-key) to use the proxy; needs --api-key-env (default: no proxy key).",
            HelpName = "NAME",
        };

        var redis = new Option<string?>("--redis")
        {
            Description = "Share every upstream's budgets with the other proxy replicas (and sluice run workers) using this Redis: "
                + "host:port, a StackExchange.Redis configuration string, or redis://[:password@]host:port. Put a password in "
                + "SLUICE_PROXY_REDIS or the config file's \"redis\", not on the command line. If Redis goes away, each replica goes on "
                + "with its share of every budget and rejoins when Redis is back. Default: budgets held in this process.",
            HelpName = "HOST:PORT",
        };

        var maxSpendPerDay = ProxyOptionKinds.Usd("--max-spend-per-day",
            "The most the upstream may spend per UTC day over every client, in USD (priced with --prices): each request reserves its worst case before it is sent; one that would pass the cap gets a 402 spend_cap_reached, never sent (default: no cap).");
        var maxSpendPerClientPerDay = ProxyOptionKinds.Usd("--max-spend-per-client-per-day",
            "The most one client (the key it presents, known by a fingerprint only) may spend at the upstream per UTC day, in USD; over it, that client gets 402 spend_cap_reached while others go on (default: no cap).");
        var prices = new Option<string?>("--prices")
        {
            Description = "A JSON prices file (same format as the table shipped with Sluice) overriding or adding models' prices, USD per million tokens. A model without a price cannot be sent under a spend cap.",
            HelpName = "FILE",
        };
        var cacheFile = new Option<string?>("--cache")
        {
            Description = "A response cache (SQLite file, shared by replicas on one machine and by sluice run). Used only by upstreams with \"cache\": true (--cache-all) and by requests sending x-sluice-cache: use; only for temperature 0 and one choice, unless --cache-any-temperature. Hits carry x-sluice-cache: hit (default: no cache).",
            HelpName = "FILE",
        };
        var cacheMaxSize = ProxyOptionKinds.Size("--cache-max-size", $"The cache's size cap, such as 500MB or 2GB; the least recently used answers go first (default: {ProxyValueText.FormatSize(ProxyDefaults.CacheMaxBytes)}).");
        var cacheMaxAge = OptionKinds.LongDuration("--cache-max-age", ProxyDefaults.CacheMaxAge, "How long a cached answer may be replayed, e.g. --cache-max-age 7d.");
        var cacheAll = new Option<bool>("--cache-all")
        {
            Description = "Answer the upstream's eligible requests (temperature 0, one choice) from the cache and store their answers, without the client asking; x-sluice-cache: off opts a request out. Needs --cache.",
        };
        var cacheAnyTemperature = new Option<bool>("--cache-any-temperature")
        {
            Description = "Cache the upstream's answers whatever the request's temperature (by default only temperature 0 and one choice are cached).",
        };

        var command = new Command(
            "proxy",
            "Run an OpenAI-compatible gateway: point any client's base URL at http://127.0.0.1:8787/v1 and its requests " +
            "are paced by Sluice — queued instead of bounced with 429s, classified and retried like the library's, streams " +
            "passed through event by event. GET /healthz, /metrics (Prometheus) and /sluice/status (JSON) show its state, and /sluice/ is a live dashboard. " +
            "Tenants (the config file's \"tenants\") share each budget by weight and priority; 'sluice proxy hash-key' hashes their keys. " +
            "Ctrl-C or SIGTERM drains: requests in flight finish, waiting ones get 503.")
        {
            upstream, listen, allowRemote, rpm, tpm, concurrency, apiKeyEnv, provider, config, maxWait, maxQueue, maxQueueTotal,
            maxPartitions, partitionIdle, maxModels, maxBody, maxBuffered,
            maxAttempts, timeout, drainTimeout, proxyKeyEnv, redis,
            maxSpendPerDay, maxSpendPerClientPerDay, prices, cacheFile, cacheMaxSize, cacheMaxAge, cacheAll, cacheAnyTemperature,
        };
        foreach (var option in budgets)
        {
            command.Options.Add(option);
        }

        command.Subcommands.Add(HashKeyCommand.Create());

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var arguments = new ProxyArguments
            {
                Upstream = parseResult.GetValue(upstream),
                Listen = parseResult.GetValue(listen),
                AllowRemote = parseResult.GetValue(allowRemote),
                RequestsPerMinute = parseResult.GetValue(rpm),
                TokensPerMinute = parseResult.GetValue(tpm),
                Budgets = ExtraBudgets.Read(parseResult, budgets),
                Concurrency = parseResult.GetValue(concurrency),
                ApiKeyEnv = parseResult.GetValue(apiKeyEnv),
                Provider = parseResult.GetValue(provider),
                Config = parseResult.GetValue(config),
                // Options with defaults count as given only when they were, so the config file can set them.
                MaxWait = Given(parseResult, maxWait) ? parseResult.GetValue(maxWait) : null,
                MaxQueue = Given(parseResult, maxQueue) ? parseResult.GetValue(maxQueue) : null,
                MaxQueueTotal = Given(parseResult, maxQueueTotal) ? parseResult.GetValue(maxQueueTotal) : null,
                MaxPartitions = Given(parseResult, maxPartitions) ? parseResult.GetValue(maxPartitions) : null,
                PartitionIdle = Given(parseResult, partitionIdle) ? parseResult.GetValue(partitionIdle) : null,
                MaxModels = parseResult.GetValue(maxModels),
                MaxBodyMegabytes = Given(parseResult, maxBody) ? parseResult.GetValue(maxBody) : null,
                MaxBufferedMegabytes = Given(parseResult, maxBuffered) ? parseResult.GetValue(maxBuffered) : null,
                MaxAttempts = Given(parseResult, maxAttempts) ? parseResult.GetValue(maxAttempts) : null,
                Timeout = Given(parseResult, timeout) ? parseResult.GetValue(timeout) : null,
                DrainTimeout = Given(parseResult, drainTimeout) ? parseResult.GetValue(drainTimeout) : null,
                ProxyKeyEnv = parseResult.GetValue(proxyKeyEnv),
                Redis = parseResult.GetValue(redis),
                Spend = new SpendAndCache(
                    parseResult.GetValue(maxSpendPerDay),
                    parseResult.GetValue(maxSpendPerClientPerDay),
                    parseResult.GetValue(cacheAll) ? true : null,
                    parseResult.GetValue(cacheAnyTemperature) ? true : null),
                Prices = parseResult.GetValue(prices),
                CacheFile = parseResult.GetValue(cacheFile),
                CacheMaxBytes = parseResult.GetValue(cacheMaxSize),
                CacheMaxAge = Given(parseResult, cacheMaxAge) ? parseResult.GetValue(cacheMaxAge) : null,
            };
            var output = parseResult.InvocationConfiguration;
            return await ProxyExecution.ExecuteAsync(arguments, output.Output, output.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static bool Given(ParseResult parseResult, Option option) => parseResult.GetResult(option) is { Implicit: false };
}
