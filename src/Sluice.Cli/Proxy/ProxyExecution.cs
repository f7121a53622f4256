using System.Net.Sockets;
using Sluice.Cli.Common;
using Sluice.Redis.Connection;
using Sluice.Text;

namespace Sluice.Cli.Proxy;

/// <summary>
/// One <c>sluice proxy</c> from start to stop: resolve and check the settings (each mistake one line naming the
/// option, variable or setting, exit 2), start listening (a port in use is one line, exit 4: nothing is wrong with the command, the machine refused it), print a one-line banner,
/// then serve until Ctrl-C or SIGTERM, which drains: waiting requests get 503, requests in flight finish within the
/// drain timeout. A second Ctrl-C stops at once.
/// </summary>
internal static class ProxyExecution
{
    private const string Name = "sluice proxy";

    public static async Task<int> ExecuteAsync(ProxyArguments arguments, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ProxySettings settings;
        try
        {
            var config = ProxyConfigFile.Read(arguments.Config);
            settings = ProxySettingsResolver.Resolve(arguments, config, Environment.GetEnvironmentVariable);
        }
        catch (FormatException exception)
        {
            await error.WriteLineAsync($"{Name}: {exception.Message}").ConfigureAwait(false);
            return SluiceCommandLine.UsageError;
        }

        if (settings.AllowRemote && !System.Net.IPAddress.IsLoopback(settings.Listen.Address))
        {
            await error.WriteLineAsync($"warning: {Name} listens on {settings.Listen}, reachable from other machines{(settings.ProxyKey is null ? ", with no proxy key: anyone who reaches it spends your budget" : "")}.").ConfigureAwait(false);
        }

        ProxyServer server;
        try
        {
            server = await ProxyServer.StartAsync(settings, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException)
        {
            await error.WriteLineAsync($"{Name}: cannot listen on {settings.Listen}: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.SluiceFailed;
        }

        await using (server.ConfigureAwait(false))
        {
            await output.WriteLineAsync(Banner(server, settings)).ConfigureAwait(false);
            using var signals = StopSignals.Listen();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, signals.Stopping);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await output.WriteLineAsync($"{Name}: draining — {server.InFlight} requests in flight may finish within {DurationText.Format(settings.DrainTimeout)}; Ctrl-C again stops at once.").ConfigureAwait(false);
            try
            {
                await server.DrainAsync(signals.Aborting).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await output.WriteLineAsync($"{Name}: stopped").ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>One line: where the proxy listens and where each upstream goes, with its budgets and whose key.</summary>
    public static string Banner(ProxyServer server, ProxySettings settings)
    {
        var upstreams = settings.Upstreams.Select(u =>
        {
            var parts = new List<string> { u.Provider.ToString().ToLowerInvariant() };
            if (u.RequestsPerMinute is { } rpm)
            {
                parts.Add($"rpm {rpm}");
            }

            if (u.TokensPerMinute is { } tpm)
            {
                parts.Add($"tpm {tpm}");
            }

            parts.Add(u.Concurrency is { } c ? $"concurrency {c}" : "concurrency auto");
            parts.Add(u.ApiKey is null ? "clients' keys" : $"key from {u.ApiKeyEnv}");
            if (u.MaxSpendPerDay is { } perDay)
            {
                parts.Add($"spend cap {ProxyValueText.FormatUsd(perDay)}/day");
            }

            if (u.MaxSpendPerClientPerDay is { } perClient)
            {
                parts.Add($"{ProxyValueText.FormatUsd(perClient)}/day per client");
            }

            if (u.Cache)
            {
                parts.Add(u.CacheAnyTemperature ? "cached, any temperature" : "cached");
            }
            string route = u.Prefix is { } prefix ? $" at {prefix}/v1" : "";
            return $"{u.Name}{route} -> {u.Url.GetLeftPart(UriPartial.Path)} ({string.Join(", ", parts)})";
        });
        string cache = settings.CacheFile is { } cacheFile ? $"; response cache {cacheFile} (for upstreams that cache and requests sending x-sluice-cache: use)" : "";
        string shared = cache + (settings.Redis is { } redis ? $"; budgets shared through Redis at {RedisConnection.Describe(redis)}" : "");
        return $"{Name} listening on {server.BaseUrl} (OpenAI base URL {server.BaseUrl}v1); upstreams: {string.Join("; ", upstreams)}{shared}{Tenants(settings)}. Ctrl-C drains and stops.";
    }

    /// <summary>The tenants as the banner lists them: name, weight, priority and how each is known; never a key or its hash.</summary>
    internal static string Tenants(ProxySettings settings)
    {
        if (settings.Tenants.Count == 0)
        {
            return settings.TenantHeader is { } header ? $"; tenants named by the {header} header" : "";
        }

        var tenants = settings.Tenants.Select(t => string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"{t.Name} (weight {t.Weight}, priority {t.Priority}, {(t.KeySha256 is null ? "by header" : "by key")}{(t.MaxSpendPerDay is { } perDay ? $", spend cap {ProxyValueText.FormatUsd(perDay)}/day" : "")})"));
        return $"; tenants: {string.Join(", ", tenants)}{(settings.TenantHeader is { } named ? $", others named by the {named} header" : "")}";
    }
}
