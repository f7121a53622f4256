using Sluice.Integration.Tests.Support;
using Sluice.Mock;

namespace Sluice.Efficiency.Scenarios;

/// <summary>
/// One workload against one limiter — <c>sluice mock</c> in-process, or a real nginx <c>limit_req</c> zone — what is
/// sent, the budgets, the latency and the faults.
/// </summary>
internal sealed record Scenario
{
    /// <summary>The short name used by <c>--scenario</c> and in the table.</summary>
    public required string Name { get; init; }

    /// <summary>One line on what the scenario shows.</summary>
    public required string Description { get; init; }

    /// <summary>How many requests the batch sends.</summary>
    public required int Requests { get; init; }

    /// <summary>The shortest and longest prompt, in characters; each request's length is drawn uniformly from the seed.</summary>
    public (int Min, int Max) PromptCharacters { get; init; } = (40, 60);

    /// <summary>The output cap every request asks for (<c>max_tokens</c>), which the mock charges in full.</summary>
    public int MaxOutputTokens { get; init; } = 50;

    /// <summary>The mock's budgets over time; the first step is at zero.</summary>
    public required IReadOnlyList<BudgetStep> Budgets { get; init; }

    /// <summary>Mean latency of an admitted answer.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Latency ± a uniform draw of at most this.</summary>
    public TimeSpan LatencyJitter { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Faults the mock injects into admitted requests.</summary>
    public Func<MockFaults> Faults { get; init; } = static () => new MockFaults();

    /// <summary>Whether the mock sends <c>x-ratelimit-*</c> headers (it always sends <c>retry-after</c> on a 429).</summary>
    public bool RateLimitHeaders { get; init; } = true;

    /// <summary>
    /// The per-attempt timeout Sluice's rows use; null keeps Sluice's default (10 minutes). The baselines keep
    /// their own defaults.
    /// </summary>
    public TimeSpan? SluiceAttemptTimeout { get; init; }

    /// <summary>
    /// When set, the limiter is nginx <c>limit_req</c> with this burst and <c>nodelay</c> setting, its rate each
    /// step's <see cref="BudgetStep.RequestsPerMinute"/> ÷ 60 (a later step reloads nginx with the new rate); the
    /// upstream answers after <see cref="Latency"/>. Null: the limiter is <c>sluice mock</c>.
    /// </summary>
    public NginxLimit? Nginx { get; init; }

    /// <summary>
    /// With <see cref="Nginx"/>: proxy to an unlimited in-process <c>sluice mock</c> (latency ± jitter) instead of
    /// answering from nginx's echo module (a fixed latency).
    /// </summary>
    public bool NginxMockUpstream { get; init; }

    /// <summary>Which of the targets the Sluice rows are held to.</summary>
    public required ScenarioKind Kind { get; init; }

    /// <summary>
    /// Requests the limiter lets through at once before its rate applies, which the ideal time does not charge:
    /// nginx with <c>nodelay</c> passes the first request and its burst at once (burst + 1); without it the burst is
    /// queued and released at the rate, so only the first is free. The mock's full bucket is ignored (see
    /// <see cref="Measure.IdealTime"/>).
    /// </summary>
    public int FreeRequests => Nginx is { } limit ? (limit.NoDelay ? limit.Burst + 1 : 1) : 0;

    /// <summary>The budgets a row starts with: the first step.</summary>
    public BudgetStep InitialBudget => Budgets[0];

    /// <summary>Whether the budget changes during the run.</summary>
    public bool BudgetChanges => Budgets.Count > 1;
}
