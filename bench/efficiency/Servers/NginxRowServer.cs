using Sluice.Efficiency.Scenarios;
using Sluice.Integration.Tests.Support;
using Sluice.Mock;

namespace Sluice.Efficiency.Servers;

/// <summary>
/// nginx <c>limit_req</c> started by the bench (Debian's nginx and echo module; loopback only), answering from the echo
/// module after the scenario's latency or proxying to an unlimited in-process mock. Attempts and 429s are counted from
/// nginx's own access log. A later budget step rewrites the configuration with the new rate and reloads nginx.
/// </summary>
internal sealed class NginxRowServer : RowServer
{
    private readonly NginxServer _nginx;
    private readonly MockServer? _upstream;
    private readonly NginxSite _site;

    private NginxRowServer(NginxServer nginx, MockServer? upstream, NginxSite site)
    {
        _nginx = nginx;
        _upstream = upstream;
        _site = site;
    }

    public override Uri BaseUrl => _nginx.BaseUrl;

    public static new async Task<RowServer> StartAsync(Scenario scenario, int seed, CancellationToken cancellationToken)
    {
        var limit = scenario.Nginx ?? throw new ArgumentException("not an nginx scenario", nameof(scenario));
        MockServer? upstream = null;
        if (scenario.NginxMockUpstream)
        {
            upstream = await MockServer.StartAsync(
                new MockOptions { Port = 0, Latency = scenario.Latency, LatencyJitter = scenario.LatencyJitter, Seed = seed },
                cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // No trailing newline after the body: this bench measures pacing, and a newline inside a results line is
            // part 1 of the issue, checked by the integration tests.
            var site = new NginxSite(limit, scenario.Latency, upstream?.BaseUrl, BodyEndsWithNewline: false);
            var nginx = await NginxServer.StartAsync(site, TimeProvider.System, cancellationToken).ConfigureAwait(false);
            return new NginxRowServer(nginx, upstream, site);
        }
        catch
        {
            if (upstream is not null)
            {
                await upstream.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }
    }

    public override Task ApplyAsync(BudgetStep step, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(step);
        int perSecond = (step.RequestsPerMinute ?? throw new ArgumentException("nginx needs a request rate", nameof(step))) / 60;
        return _nginx.ReloadAsync(_site with { Limit = _site.Limit with { RequestsPerSecond = perSecond } }, cancellationToken);
    }

    public override ServerCount Count()
    {
        var statuses = _nginx.StatusCounts();
        return new ServerCount(statuses.Values.Sum(), statuses.GetValueOrDefault(429), Violations: null);
    }

    public override async ValueTask DisposeAsync()
    {
        await _nginx.DisposeAsync().ConfigureAwait(false);
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
