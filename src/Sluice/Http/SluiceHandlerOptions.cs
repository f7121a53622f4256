using System.ComponentModel.DataAnnotations;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Http;

/// <summary>
/// How a <see cref="SluiceHandler"/> paces and retries the requests of one <see cref="HttpClient"/>. Bind it from
/// configuration (section <c>Sluice</c>) or set it in code; it is validated at start and copied.
/// </summary>
public sealed class SluiceHandlerOptions
{
    /// <summary>Which provider's errors and headers the handler reads.</summary>
    /// <value>Defaults to <see cref="ProviderKind.OpenAI"/>.</value>
    public ProviderKind Provider { get; set; } = ProviderKind.OpenAI;

    /// <summary>
    /// Limits for every partition (upstream host + credential + model) not named in <see cref="Partitions"/>.
    /// </summary>
    /// <value>Defaults to 32 in flight and no budgets: set <see cref="PartitionLimits.RequestsPerWindow"/> and
    /// <see cref="PartitionLimits.TokensPerWindow"/> to your account's RPM and TPM.</value>
    [Required]
    public PartitionLimits DefaultLimits { get; set; } = new();

    /// <summary>
    /// Learns each partition's concurrency limit from its answers, up to the partition's
    /// <see cref="PartitionLimits.MaxConcurrency"/>: it starts low, grows while answers succeed and backs off on 503,
    /// 504, timeouts, and 429 and 529 where no request rate is known; where a budget binds, it is raised to what the
    /// budget needs (rate × latency × 1.5, Little's law), above <c>MaxConcurrency</c> if need be. Applies to
    /// <see cref="DefaultLimits"/> and every entry of <see cref="Partitions"/>.
    /// </summary>
    /// <value>Defaults to <see langword="true"/>; <see langword="false"/> holds every partition at its <c>MaxConcurrency</c>.</value>
    public bool AdaptiveConcurrency { get; set; } = true;

    /// <summary>Limits by model name (the request body's <c>model</c>), such as <c>Sluice:Partitions:gpt-4o</c> in configuration.</summary>
    public IDictionary<string, PartitionLimits> Partitions { get; } = new Dictionary<string, PartitionLimits>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The most partitions held at once (see <see cref="GateOptions.MaxPartitions"/>): a new partition beyond it is
    /// made only once an idle one has been removed; until then its requests end <see cref="JobEndReason.PartitionStopped"/>.
    /// </summary>
    /// <value>Defaults to 10,000.</value>
    public int MaxPartitions { get; set; } = GateOptions.DefaultMaxPartitions;

    /// <summary>
    /// How long a partition with nothing in flight or waiting is kept before it is removed and its learned state
    /// forgotten (see <see cref="GateOptions.PartitionIdleTimeout"/>); <see cref="Timeout.InfiniteTimeSpan"/> keeps it.
    /// </summary>
    /// <value>Defaults to 10 minutes.</value>
    public TimeSpan PartitionIdleTimeout { get; set; } = GateOptions.DefaultPartitionIdleTimeout;

    /// <summary>
    /// Makes the gate every request waits at: budgets shared between processes (<c>Sluice.Redis</c>'s
    /// <c>UseRedis</c>) instead of held in this one. The engine owns and disposes the gate.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="SluiceGate.Create"/>, an in-process gate.</value>
    public SluiceGateFactory? GateFactory { get; set; }

    /// <summary>Attempts, timeouts and backoff.</summary>
    /// <value>Defaults sized for LLM calls: 5 attempts, a 10-minute attempt timeout, backoff from 1 s to 1 min.</value>
    [Required]
    public DispatcherOptions Retry { get; set; } = new();

    /// <summary>
    /// Called when the provider rejects a credential (401, 403): set a fresh credential on the request's headers
    /// (<c>Authorization</c>, <c>api-key</c> or <c>x-api-key</c>) and return <see langword="true"/> to send it again, or
    /// <see langword="false"/> to stop the partition. It runs once per rejected credential, however many requests
    /// carried it; every later request that still carries the old credential gets the new one.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: a rejected credential stops the partition at once.</value>
    public Func<HttpRequestMessage, CancellationToken, ValueTask<bool>>? RefreshCredentials { get; set; }

    /// <summary>
    /// What each model costs: the engine's <c>EstimateCost</c>, <c>CostOf</c>, each response's <c>Cost</c> and every
    /// spend cap read it. Load a file of your own with <see cref="PriceTable.Load"/>, usually laid over the shipped one
    /// (<c>PriceTable.Default.OverriddenBy(PriceTable.Load(path))</c>); see docs/spend.md for the format.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: <see cref="PriceTable.Default"/>, the list prices shipped with Sluice.</value>
    public PriceTable? Prices { get; set; }

    /// <summary>
    /// The most a partition (upstream + credential + model group) may spend in a UTC day, in US dollars: each try
    /// reserves its worst case (prompt estimate plus output cap, priced) before it is sent and settles to its real usage,
    /// and a try that would take the day's settled plus reserved spend past this ends
    /// <see cref="JobEndReason.SpendCapReached"/> unsent. Under a cap, a request whose model has no price is refused.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no cap.</value>
    public decimal? MaxSpendPerDay { get; set; }
}
