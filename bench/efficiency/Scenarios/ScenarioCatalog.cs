using Sluice.Mock;

namespace Sluice.Efficiency.Scenarios;

/// <summary>
/// The scenarios of issue 8, part 1 (the mock), and of issue 12, part 7 (answers of seconds; real nginx limiters, in
/// <see cref="RealLimiterScenarios"/>), time-scaled so the whole run takes minutes.
/// </summary>
internal static class ScenarioCatalog
{
    /// <summary>The blog post's request budget: 1,500 a minute, 25 a second.</summary>
    private const int BlogRequestsPerMinute = 1_500;

    /// <summary>Every scenario, in the order they run.</summary>
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new Scenario
        {
            Name = "request-bound",
            Description = "the blog post's job: 500 requests, 25/s, 300 ± 200 ms",
            Kind = ScenarioKind.MockWithHeaders,
            Requests = 500,
            Budgets = [new BudgetStep(TimeSpan.Zero, BlogRequestsPerMinute, null)],
        },
        new Scenario
        {
            Name = "token-bound",
            Description = "600 requests, prompts of 50–4,000 characters, 100 output tokens each; 20,000 tokens/s binds (100 requests/s does not)",
            Kind = ScenarioKind.MockWithHeaders,
            Requests = 600,
            PromptCharacters = (50, 4_000),
            MaxOutputTokens = 100,
            Budgets = [new BudgetStep(TimeSpan.Zero, 6_000, 1_200_000)],
        },
        new Scenario
        {
            Name = "fault-mix",
            Description = "request-bound plus 5% 500s, 2% resets, 1% malformed bodies, 0.5% hangs; Sluice's attempt timeout 5 s",
            Kind = ScenarioKind.FaultMix,
            Requests = 500,
            Budgets = [new BudgetStep(TimeSpan.Zero, BlogRequestsPerMinute, null)],
            Faults = static () => new MockFaults
            {
                InternalServerErrorRate = 0.05,
                ConnectionResetRate = 0.02,
                MalformedBodyRate = 0.01,
                HangRate = 0.005,
            },
            SluiceAttemptTimeout = TimeSpan.FromSeconds(5),
        },
        new Scenario
        {
            Name = "headers-off",
            Description = "request-bound, but the mock sends no x-ratelimit-* headers (retry-after only)",
            Kind = ScenarioKind.Unstated,
            Requests = 500,
            Budgets = [new BudgetStep(TimeSpan.Zero, BlogRequestsPerMinute, null)],
            RateLimitHeaders = false,
        },
        BudgetChange(requests: 600, requestsPerMinute: 1_800),
        new Scenario
        {
            Name = "long-answers",
            Description = "long generations: 1,000 requests, 3,000/min stated in headers, answers after 8 ± 4 s (≈ 400 in flight by Little's law)",
            Kind = ScenarioKind.LongAnswers,
            Requests = 1_000,
            Budgets = [new BudgetStep(TimeSpan.Zero, 3_000, null)],
            Latency = TimeSpan.FromSeconds(8),
            LatencyJitter = TimeSpan.FromSeconds(4),
        },
        .. RealLimiterScenarios.All,
    ];

    /// <summary>
    /// A small unmeasured batch every row runs once before the first scenario: it compiles the code paths and loads
    /// Sluice's tokenizer, which would otherwise land in whichever row happens to run first.
    /// </summary>
    public static Scenario WarmUp { get; } = new()
    {
        Name = "warm-up",
        Description = "not measured",
        Kind = ScenarioKind.MockWithHeaders,
        Requests = 20,
        PromptCharacters = (50, 4_000),
        Budgets = [new BudgetStep(TimeSpan.Zero, null, null)],
        Latency = TimeSpan.FromMilliseconds(10),
        LatencyJitter = TimeSpan.Zero,
    };

    /// <summary>
    /// The budget halves after a third of the time the whole batch would take at the first budget (T0 = n ÷ r) and
    /// is restored after another third.
    /// </summary>
    private static Scenario BudgetChange(int requests, int requestsPerMinute)
    {
        var third = TimeSpan.FromSeconds(requests / (requestsPerMinute / 60.0) / 3);
        return new Scenario
        {
            Name = "budget-change",
            Description = $"{requests} requests at {requestsPerMinute / 60}/s, halved at {third.TotalSeconds:F1} s, restored at {(2 * third).TotalSeconds:F1} s",
            Kind = ScenarioKind.MockWithHeaders,
            Requests = requests,
            Budgets =
            [
                new BudgetStep(TimeSpan.Zero, requestsPerMinute, null),
                new BudgetStep(third, requestsPerMinute / 2, null),
                new BudgetStep(2 * third, requestsPerMinute, null),
            ],
        };
    }
}
