using Sluice.Caching;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Spend;

namespace Sluice.Engine;

/// <summary>How one face sends through a <see cref="SluiceEngine"/>: its transport and what it watches of each try.</summary>
public sealed class SluiceSendOptions
{
    /// <summary>
    /// Sends one message instead of the engine's own transport: a <see cref="DelegatingHandler"/>'s inner handler, or
    /// a test's fake upstream. <see langword="null"/> uses the transport the engine was made with.
    /// </summary>
    public Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>>? Send { get; init; }

    /// <summary>
    /// Called as each try is about to send, after the gate admitted it: the proxy stops counting its client's waiting
    /// time here. Called outside every lock; it must be quick and must not throw.
    /// </summary>
    public Action? AttemptStarting { get; init; }

    /// <summary>
    /// Decides, for an answer the provider profile classes as exhausted quota or a rejected credential (401, 403),
    /// whether its cause is the partition's — its credential, its account — so that it stops the partition and is
    /// replayed to the partition's other callers, or this request's own (a credential or header only this caller sent),
    /// so that it ends this request alone as a permanent failure and stops nobody. <see langword="null"/>: every such
    /// answer stops the partition, right when the credential is the face's own (a handler's, a run's). Called outside
    /// every lock; it must be quick and must not throw.
    /// </summary>
    public Func<HttpResponseMessage, bool>? StopsPartition { get; init; }

    /// <summary>
    /// Called as each try ends, with its outcome class: counting tries and throttles, resuming a wait clock. Every try
    /// that started ends here once, a try cut short (its timeout, the caller, the deadline) as
    /// <see cref="AttemptOutcomeKind.Transient"/>.
    /// </summary>
    public Action<AttemptOutcomeKind>? AttemptEnded { get; init; }

    /// <summary>
    /// Answers already paid for: when set, a request with a body is looked up by its <see cref="CacheKey"/> before it
    /// waits at the gate, and a hit is answered without sending (<see cref="SluiceResponse.FromCache"/>, header
    /// <c>x-sluice-cache: hit</c>); a miss is sent as usual and its 2xx answer stored once it is complete and valid (a
    /// buffered body that parses as JSON, a stream that ended with its terminator), its message marked
    /// <c>x-sluice-cache: miss</c>. Which requests may be cached at all (<see cref="CachePolicy"/>) is the face's
    /// choice: it sets this only for those. <see langword="null"/>: no cache.
    /// </summary>
    public ResponseCache? Cache { get; init; }

    /// <summary>
    /// Spend caps this face adds to the partition's own (<see cref="Http.SluiceHandlerOptions.MaxSpendPerDay"/>): a
    /// run's <c>--max-spend</c>, a proxy's cap per upstream or per client. Each try reserves its worst case in every
    /// one before it is sent and settles to its real cost when its answer ends; a try any cap refuses is not sent, and
    /// its job ends <see cref="JobEndReason.SpendCapReached"/>. A cap may be shared by any number of requests and engines.
    /// </summary>
    /// <value>Defaults to <see langword="null"/>: no caps but the partition's.</value>
    public IReadOnlyList<SpendCap>? SpendCaps { get; init; }

    /// <summary>Who the request is for at the gate (<see cref="SluiceJob.Tenant"/>): the partition shares its budget among tenants by weight.</summary>
    /// <value>Defaults to <see langword="null"/>: the partition's default tenant.</value>
    public GateTenant? Tenant { get; init; }

    /// <summary>The request's priority at the gate (<see cref="SluiceJob.Priority"/>): higher is admitted first.</summary>
    /// <value>Defaults to 0.</value>
    public int Priority { get; init; }
}
