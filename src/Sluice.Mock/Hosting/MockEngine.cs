using Sluice.Mock.Batch;
using Sluice.Mock.Content;
using Sluice.Mock.Faults;
using Sluice.Mock.Limits;
using Sluice.Mock.Requests;
using Sluice.Mock.Stats;
using Sluice.Mock.Timing;

namespace Sluice.Mock.Hosting;

/// <summary>
/// Everything one running mock is made of, copied from its options at start: the gate and its audit, the
/// statistics, the faults, the latency, the models and the id source. The endpoints share it.
/// </summary>
internal sealed class MockEngine
{
    public MockEngine(MockOptions options, CancellationToken stopping, bool serveBatches = true)
    {
        var faults = options.Faults.Clone();
        Time = options.TimeProvider;
        Stopping = stopping;
        Audit = new BudgetAudit(options.AuditWindow, Time.TimestampFrequency);
        Gate = new RateLimitGate(options.Limits, Time, Audit);
        FaultDraw = new FaultDraw(faults, options.Seed);
        Credentials = new CredentialExpiry(faults.AuthExpiresAfterRequests);
        Quota = new QuotaCounter(faults.QuotaExhaustedAfterRequests);
        ContextLengthLimit = faults.ContextLengthLimit;
        Latency = new LatencyModel(options.Latency, options.LatencyJitter, options.TimePerOutputToken, options.Seed);
        Models = new ModelCatalog(options.Models, options.AcceptAnyModel);
        Ids = new IdGenerator(options.Seed);
        RateLimitHeaders = options.RateLimitHeaders;
        DefaultMaxOutputTokens = options.DefaultMaxOutputTokens;
        ReplyTokens = options.ReplyTokens;
        ApiRoot = options.ApiRoot.TrimEnd('/');
        if (serveBatches)
        {
            // Batch lines are answered by an engine of their own: no latency or faults, its own ids and statistics.
            var answers = new MockEngine(options.ForBatchAnswers(), stopping, serveBatches: false);
            Batches = new BatchStore(options, new BatchAnswers(answers, options.BatchLineFailureRate, options.Seed));
        }
    }

    /// <summary>The Batch APIs' files and batches; null in the engine that answers batch lines.</summary>
    public BatchStore? Batches { get; }

    /// <summary>Where the API is served in place of <c>/v1</c>, without a trailing slash: empty for the root.</summary>
    public string ApiRoot { get; }

    public TimeProvider Time { get; }

    /// <summary>Cancelled when the mock stops, so that hanging and slow answers end at once.</summary>
    public CancellationToken Stopping { get; }

    public RateLimitGate Gate { get; }

    public BudgetAudit Audit { get; }

    public MockStatistics Stats { get; } = new();

    public FaultDraw FaultDraw { get; }

    public CredentialExpiry Credentials { get; }

    public QuotaCounter Quota { get; }

    public int? ContextLengthLimit { get; }

    public LatencyModel Latency { get; }

    public ModelCatalog Models { get; }

    public IdGenerator Ids { get; }

    public bool RateLimitHeaders { get; }

    public int DefaultMaxOutputTokens { get; }

    public int ReplyTokens { get; }

    public MockStats Snapshot()
    {
        var stats = Stats.Snapshot(Audit.Snapshot(), Gate.Limits);
        stats.Batches = Batches?.Counters.Snapshot() ?? new();
        return stats;
    }

    /// <summary>
    /// Back to the state at start, so a run after it repeats the first: statistics and audit zeroed, buckets
    /// full, quota and credentials fresh, fault, latency and id sequences restarted. Budgets keep their current
    /// values and requests in flight finish normally.
    /// </summary>
    public void Reset()
    {
        Gate.Refill();
        Audit.ResetViolations();
        Stats.Reset();
        FaultDraw.Reset();
        Credentials.Reset();
        Quota.Reset();
        Latency.Reset();
        Ids.Reset();
        Batches?.Reset();
    }

    /// <summary>Waits on the mock's clock; nothing to do for a zero delay.</summary>
    public Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken) =>
        delay > TimeSpan.Zero ? Task.Delay(delay, Time, cancellationToken) : Task.CompletedTask;
}
