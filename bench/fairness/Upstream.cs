using System.Globalization;
using Sluice.Integration.Tests.Support;
using Sluice.Mock;

namespace Sluice.FairBench;

/// <summary>What the limiter itself counted: requests that reached it, its 429s, and its own audit's violations (the mock's; nginx keeps none).</summary>
internal sealed record UpstreamCount(long Attempts, long Throttled, long? Violations);

/// <summary>
/// The limiter the proxy sends to, fresh for each run on 127.0.0.1 and an OS-picked port: <c>sluice mock</c> in-process
/// enforcing the request budget (and auditing it), or Debian's nginx <c>limit_req</c> at the same rate proxying to an
/// unlimited mock — started as bench/efficiency starts them (the same NginxServer/NginxSite files, linked).
/// </summary>
internal abstract class Upstream : IAsyncDisposable
{
    public abstract Uri BaseUrl { get; }

    /// <summary>How it reads in the table, e.g. <c>sluice mock --rpm 600</c>.</summary>
    public abstract string Description { get; }

    public abstract UpstreamCount Count();

    public abstract ValueTask DisposeAsync();

    /// <summary>Starts <paramref name="kind"/> (<c>mock</c> or <c>nginx</c>) allowing <paramref name="requestsPerMinute"/>, answering after <paramref name="latency"/>.</summary>
    public static async Task<Upstream> StartAsync(string kind, int requestsPerMinute, TimeSpan latency, int nginxBurst, CancellationToken cancellationToken, int tokensPerMinute = 0)
    {
        return kind switch
        {
            "mock-tpm" => new MockUpstream(await MockServer.StartAsync(
                new MockOptions { Port = 0, Limits = new MockLimits { TokensPerMinute = tokensPerMinute }, Latency = latency, Seed = 18 },
                cancellationToken)),
            "mock" => new MockUpstream(await MockServer.StartAsync(
                new MockOptions { Port = 0, Limits = new MockLimits { RequestsPerMinute = requestsPerMinute }, Latency = latency, Seed = 18 },
                cancellationToken)),
            "nginx" => await NginxUpstream.StartAsync(requestsPerMinute, latency, nginxBurst, cancellationToken),
            _ => throw new ArgumentException($"unknown upstream '{kind}' (mock or nginx)", nameof(kind)),
        };
    }

    private sealed class MockUpstream(MockServer mock) : Upstream
    {
        public override Uri BaseUrl => mock.BaseUrl;

        public override string Description => string.Create(
            CultureInfo.InvariantCulture,
            $"sluice mock {(mock.Limits.TokensPerMinute is { } tpm ? $"--tpm {tpm}" : $"--rpm {mock.Limits.RequestsPerMinute}")} (1 s burst)");

        public override UpstreamCount Count()
        {
            var stats = mock.GetStats();
            return new UpstreamCount(
                stats.Received,
                stats.Rejected.Where(r => r.Key.StartsWith("rate_limit_", StringComparison.Ordinal) || r.Key == "concurrency").Sum(r => r.Value),
                stats.BudgetViolations.Total);
        }

        public override ValueTask DisposeAsync() => mock.DisposeAsync();
    }

    private sealed class NginxUpstream(NginxServer nginx, MockServer behind, NginxLimit limit) : Upstream
    {
        public override Uri BaseUrl => nginx.BaseUrl;

        public override string Description => $"nginx limit_req {limit} → unlimited mock";

        public static async Task<Upstream> StartAsync(int requestsPerMinute, TimeSpan latency, int burst, CancellationToken cancellationToken)
        {
            if (requestsPerMinute % 60 != 0)
            {
                throw new ArgumentException("nginx's rate here is whole requests a second: --rpm must be a multiple of 60");
            }

            var behind = await MockServer.StartAsync(new MockOptions { Port = 0, Latency = latency, Seed = 18 }, cancellationToken);
            try
            {
                var limit = new NginxLimit(requestsPerMinute / 60, burst, NoDelay: true);
                var nginx = await NginxServer.StartAsync(new NginxSite(limit, latency, behind.BaseUrl, BodyEndsWithNewline: false), TimeProvider.System, cancellationToken);
                return new NginxUpstream(nginx, behind, limit);
            }
            catch
            {
                await behind.DisposeAsync();
                throw;
            }
        }

        public override UpstreamCount Count()
        {
            var statuses = nginx.StatusCounts();
            return new UpstreamCount(statuses.Values.Sum(), statuses.GetValueOrDefault(429), Violations: null);
        }

        public override async ValueTask DisposeAsync()
        {
            await nginx.DisposeAsync();
            await behind.DisposeAsync();
        }
    }
}
