using System.Globalization;
using Sluice.Integration.Tests.Support;

namespace Sluice.Efficiency.Scenarios;

/// <summary>
/// Issue 12's real limiters: nginx <c>limit_req</c> (a leaky bucket; 429 with a JSON error body and no Retry-After or
/// rate-limit headers) in front of answers that look like OpenAI's chat completions. Bursts 0–10, with and without
/// <c>nodelay</c>, latencies from 50 ms to 2 s, and a rate that changes mid-run (an nginx reload).
/// </summary>
internal static class RealLimiterScenarios
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        Nginx("nginx-b5-nodelay", "the issue's measured case", 400, new NginxLimit(40, 5, NoDelay: true), TimeSpan.FromMilliseconds(200)),
        Nginx("nginx-b0", "no burst at all", 400, new NginxLimit(40, 0, NoDelay: false), TimeSpan.FromMilliseconds(50)),
        Nginx("nginx-b10-delay", "the burst is queued, not refused", 400, new NginxLimit(40, 10, NoDelay: false), TimeSpan.FromMilliseconds(200)),
        Nginx("nginx-2s", "slow answers", 300, new NginxLimit(20, 2, NoDelay: true), TimeSpan.FromSeconds(2)),
        RateChange(),
        Nginx("nginx-mock-upstream", "proxied to an unlimited sluice mock", 400, new NginxLimit(40, 5, NoDelay: true), TimeSpan.FromMilliseconds(300)) with
        {
            NginxMockUpstream = true,
            LatencyJitter = TimeSpan.FromMilliseconds(200),
            Description = "400 requests, nginx limit_req 40r/s burst=5 nodelay, proxied to an unlimited sluice mock answering after 300 ± 200 ms",
        },
    ];

    private static Scenario Nginx(string name, string what, int requests, NginxLimit limit, TimeSpan latency) => new()
    {
        Name = name,
        Description = string.Create(
            CultureInfo.InvariantCulture,
            $"{what}: {requests} requests, nginx limit_req {limit}, echo module answering after {latency.TotalMilliseconds:N0} ms"),
        Kind = ScenarioKind.Unstated,
        Requests = requests,
        Budgets = [new BudgetStep(TimeSpan.Zero, limit.RequestsPerSecond * 60, null)],
        Nginx = limit,
        Latency = latency,
        LatencyJitter = TimeSpan.Zero,
        RateLimitHeaders = false,
    };

    /// <summary>40 r/s, halved after a third of T0 = n ÷ r by reloading nginx with the new rate, restored after another third.</summary>
    private static Scenario RateChange()
    {
        const int Requests = 480;
        var limit = new NginxLimit(40, 5, NoDelay: true);
        var third = TimeSpan.FromSeconds(Requests / (double)limit.RequestsPerSecond / 3);
        int perMinute = limit.RequestsPerSecond * 60;
        return Nginx("nginx-rate-change", "the limit changes", Requests, limit, TimeSpan.FromMilliseconds(200)) with
        {
            Description = string.Create(
                CultureInfo.InvariantCulture,
                $"{Requests} requests, nginx limit_req {limit} (200 ms), rate halved at {third.TotalSeconds:F0} s and restored at {(2 * third).TotalSeconds:F0} s (nginx -s reload)"),
            Budgets =
            [
                new BudgetStep(TimeSpan.Zero, perMinute, null),
                new BudgetStep(third, perMinute / 2, null),
                new BudgetStep(2 * third, perMinute, null),
            ],
        };
    }
}
