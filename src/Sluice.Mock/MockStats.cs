namespace Sluice.Mock;

/// <summary>
/// What the mock has seen since it started or was last reset; the same numbers <c>GET /mock/stats</c> serves.
/// Reason and fault names are listed in docs/mock.md.
/// </summary>
public sealed class MockStats
{
    /// <summary>Requests to API paths (everything outside <c>/mock/</c>, except <c>GET /v1/models</c>), whatever became of them.</summary>
    public long Received { get; init; }

    /// <summary>Requests the budgets admitted (and so charged), including those a fault then hit.</summary>
    public long Accepted { get; init; }

    /// <summary>Requests answered 200 with a complete, well-formed body.</summary>
    public long Succeeded { get; init; }

    /// <summary>Requests refused, by reason: rate limits, concurrency, too large, bad input, unknown model or path.</summary>
    public IReadOnlyDictionary<string, long> Rejected { get; init; } = new Dictionary<string, long>();

    /// <summary>Faults injected, by kind.</summary>
    public IReadOnlyDictionary<string, long> Faults { get; init; } = new Dictionary<string, long>();

    /// <summary>API requests being handled now.</summary>
    public int InFlight { get; init; }

    /// <summary>The most API requests handled at once, refused ones included.</summary>
    public int PeakInFlight { get; init; }

    /// <summary>The most admitted requests in flight at once: what the concurrency limit bounds.</summary>
    public int PeakAdmittedInFlight { get; init; }

    /// <summary>Tokens charged to the budgets at admission: prompt estimates plus output caps.</summary>
    public long AdmittedTokens { get; init; }

    /// <summary>Prompt tokens reported in the usage of successful answers.</summary>
    public long PromptTokens { get; init; }

    /// <summary>Completion tokens reported in the usage of successful answers.</summary>
    public long CompletionTokens { get; init; }

    /// <summary>Requests per <c>X-Request-Id</c> header.</summary>
    public MockIdCounts RequestIds { get; init; } = new();

    /// <summary>Requests per custom id: the <c>X-Sluice-Custom-Id</c> header, else the body's <c>metadata.custom_id</c>.</summary>
    public MockIdCounts CustomIds { get; init; } = new();

    /// <summary>The independent budget audit; all zero when the mock kept within its budgets.</summary>
    public MockBudgetViolations BudgetViolations { get; init; } = new();

    /// <summary>What the Batch API endpoints have seen: files, batches per provider, result lines served.</summary>
    public MockBatchStats Batches { get; internal set; } = new();

    /// <summary>The budgets in force.</summary>
    public MockLimits Limits { get; init; } = new();
}
