using Microsoft.Extensions.Logging;

namespace Sluice.Telemetry;

/// <summary>Every log message Sluice writes, source-generated, with stable event ids. Never log a credential.</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Information, "Partition {Partition} paused for {Pause} until the provider's retry-after")]
    public static partial void PartitionPaused(ILogger logger, string partition, TimeSpan pause);

    [LoggerMessage(101, LogLevel.Warning, "Partition {Partition} stopped: {Reason}")]
    public static partial void PartitionStopped(ILogger logger, string partition, string reason);

    [LoggerMessage(102, LogLevel.Information, "Partition {Partition} resumed")]
    public static partial void PartitionResumed(ILogger logger, string partition);

    [LoggerMessage(103, LogLevel.Warning, "Partition {Partition} rejected a caller: its queue of {Limit} is full")]
    public static partial void QueueFull(ILogger logger, string partition, int limit);

    [LoggerMessage(104, LogLevel.Information, "Partition {Partition} limits changed: concurrency {Concurrency}, requests {Requests} and tokens {Tokens} per {Window}")]
    public static partial void LimitsChanged(ILogger logger, string partition, int concurrency, int? requests, long? tokens, TimeSpan window);

    [LoggerMessage(105, LogLevel.Information, "Partition {Partition} {Dimension} budget from the provider's headers: {Amount} (per minute, or per day for a daily budget)")]
    private static partial void BudgetLearned(ILogger logger, string partition, Gate.BudgetDimension dimension, string amount);

    /// <summary>Logs one budget dimension in force after headers stated it; "no" where none is known.</summary>
    public static void BudgetLearned(ILogger logger, string partition, Gate.BudgetDimension dimension, double? amount)
    {
        if (logger.IsEnabled(LogLevel.Information))
        {
            BudgetLearned(logger, partition, dimension, Amount(amount));
        }
    }

    [LoggerMessage(106, LogLevel.Information, "Partition {Partition} throttled with no budget known: pacing at {RequestsPerMinute:F1} requests per minute, learned from the 429s")]
    public static partial void RateLearned(ILogger logger, string partition, double requestsPerMinute);

    [LoggerMessage(107, LogLevel.Debug, "Partition {Partition} adaptive concurrency limit now {Limit}")]
    public static partial void ConcurrencyAdapted(ILogger logger, string partition, int limit);

    [LoggerMessage(200, LogLevel.Debug, "Job {JobId} attempt {Attempt} throttled; partition {Partition} pauses {Pause}")]
    public static partial void AttemptThrottled(ILogger logger, string jobId, int attempt, string partition, TimeSpan pause);

    [LoggerMessage(201, LogLevel.Information, "Job {JobId} attempt {Attempt} failed transiently ({Error}); retrying in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, string jobId, int attempt, string error, TimeSpan delay);

    [LoggerMessage(202, LogLevel.Warning, "Job {JobId} failed after {Attempts} attempts: {Reason}: {Error}")]
    public static partial void JobFailed(ILogger logger, string jobId, int attempts, Dispatch.JobEndReason reason, string error);

    [LoggerMessage(203, LogLevel.Information, "Job {JobId} not completed ({Reason}); it can be run again")]
    public static partial void JobNotCompleted(ILogger logger, string jobId, Dispatch.JobEndReason reason);

    [LoggerMessage(204, LogLevel.Information, "Dispatcher draining: nothing new starts, work in flight finishes")]
    public static partial void Draining(ILogger logger);

    [LoggerMessage(205, LogLevel.Debug, "Job {JobId} attempt {Attempt} has run {Elapsed}, past its partition's usual latency, with room to spare: a second try starts, the first answer wins")]
    public static partial void AttemptHedged(ILogger logger, string jobId, int attempt, TimeSpan elapsed);

    [LoggerMessage(206, LogLevel.Information, "Job {JobId} attempt {Attempt} failed transiently ({Error}); retrying in {Delay}, or in a tenth of that once its partition is idle")]
    public static partial void RetryScheduledUnlessIdle(ILogger logger, string jobId, int attempt, string error, TimeSpan delay);

    [LoggerMessage(110, LogLevel.Debug, "Gate removed {Count} partitions idle for {IdleTimeout} or longer; {Left} left")]
    public static partial void PartitionsEvicted(ILogger logger, int count, TimeSpan idleTimeout, int left);

    [LoggerMessage(112, LogLevel.Warning, "Partition {Partition} refused a new tenant: it tracks its limit of {Limit} tenants, every one busy")]
    public static partial void TenantsFull(ILogger logger, string partition, int limit);

    [LoggerMessage(111, LogLevel.Warning, "Gate refused a new partition: it holds its limit of {Limit} partitions, none idle for {IdleTimeout}")]
    public static partial void PartitionRefused(ILogger logger, int limit, TimeSpan idleTimeout);

    [LoggerMessage(300, LogLevel.Warning, "Model {Model} has no price for provider {Provider} in the price table (as of {AsOf}): its cost is unknown and never guessed, and a spend cap refuses it; add it with a prices file (docs/spend.md)")]
    public static partial void ModelUnpriced(ILogger logger, string model, Providers.ProviderKind provider, DateOnly asOf);

    [LoggerMessage(301, LogLevel.Information, "Request {RequestId} not sent: {Refusal}")]
    public static partial void SpendCapRefused(ILogger logger, string requestId, string refusal);

    private static string Amount(double? perMinute) =>
        perMinute is { } value ? value.ToString("#,0.#", System.Globalization.CultureInfo.InvariantCulture) : "no";
}
