using System.Threading.RateLimiting;
using Sluice.Adaptive;

namespace Sluice.Gate;

/// <summary>
/// The gate of one partition (an upstream, a credential and a model group): admits callers under its concurrency
/// limit and every budget it holds (<see cref="BudgetDimension"/>), by priority then arrival, and computes when the next one may start instead of polling.
/// A waiter here never blocks a waiter in another partition. Obtain one from <see cref="SluiceGate.GetPartition"/>.
/// </summary>
/// <remarks>
/// This is a contract: <see cref="SluiceGate.Create"/> makes partitions that live in this process, and another gate
/// (budgets shared between machines, say) derives its own. An implementation admits a caller by returning
/// <see cref="CreateLease"/>, rejects one with <see cref="CreateRejection"/>, and is called back when a lease it made
/// is disposed (<see cref="OnLeaseReleased"/>) or settled (<see cref="OnLeaseSettled"/>). The dispatcher reports
/// what each attempt learned through <see cref="RecordOutcome"/>,
/// <see cref="ObserveAnswerBudget"/> and <see cref="HeadersObserved"/>,
/// which an implementation may override. Every implementation should pass the shared gate contract tests.
/// </remarks>
public abstract class GatePartition
{
    private PartitionRateLimiter? _rateLimiter;

    /// <summary>Initialises a partition.</summary>
    protected GatePartition()
    {
    }

    /// <summary>The key the caller chose for this partition.</summary>
    public abstract string Key { get; }

    /// <summary>
    /// The most requests in flight at once. May change at run time (adaptive concurrency moves it); lowering it
    /// never interrupts work already admitted.
    /// </summary>
    public abstract int ConcurrencyLimit { get; set; }

    /// <summary>Waits until the caller may start, or until it is rejected. Cancellation throws as usual.</summary>
    /// <param name="request">The token estimate, priority and queue position.</param>
    /// <param name="cancellationToken">Stops waiting; the place in the queue is given up.</param>
    /// <returns>An admitted lease, or a rejection (queue full, partition stopped).</returns>
    public abstract ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default);

    /// <summary>Admits the caller now if nobody is ahead and every limit allows; never waits.</summary>
    /// <param name="request">The token estimate, priority and queue position.</param>
    /// <returns>An admitted lease, or a rejection whose <see cref="GateLease.RetryAfter"/> says when to try again.</returns>
    public abstract GateLease TryAcquire(AdmissionRequest request);

    /// <summary>Stops all admissions until <paramref name="until"/> (a provider's Retry-After). A shorter pause than one in force is ignored.</summary>
    /// <param name="until">When admissions may resume.</param>
    public abstract void PauseUntil(DateTimeOffset until);

    /// <summary>
    /// Stops the partition: every waiter is rejected with <see cref="GateRejectionReason.Stopped"/> and the reason,
    /// and so is every later caller until <see cref="Resume"/>. For quota exhaustion and rejected credentials.
    /// </summary>
    /// <param name="reason">A sentence for people; never include a credential.</param>
    public abstract void Stop(string reason);

    /// <summary>Lifts a <see cref="Stop"/>.</summary>
    public abstract void Resume();

    /// <summary>
    /// The provider's view of the request budget: <paramref name="remaining"/> requests are left, and the budget is
    /// whole again at <paramref name="resetAt"/>. Lowers the local allowance when the provider says less is left;
    /// never raises it above the configured budget. Ignored without a request budget.
    /// </summary>
    /// <param name="remaining">Requests the provider says are left.</param>
    /// <param name="resetAt">When the provider says its budget is whole again.</param>
    /// <param name="limit">The provider's budget per window, when it says; otherwise the configured one is assumed.</param>
    public virtual void ObserveRequests(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        ObserveBudget(BudgetDimension.Requests, remaining, resetAt, limit);

    /// <summary>The provider's view of the token budget; see <see cref="ObserveRequests"/>.</summary>
    /// <param name="remaining">Tokens the provider says are left.</param>
    /// <param name="resetAt">When the provider says its budget is whole again.</param>
    /// <param name="limit">The provider's budget per window, when it says; otherwise the configured one is assumed.</param>
    public virtual void ObserveTokens(long remaining, DateTimeOffset resetAt, long? limit = null) =>
        ObserveBudget(BudgetDimension.Tokens, remaining, resetAt, limit);

    /// <summary>
    /// The provider's view of one budget; see <see cref="ObserveRequests"/>. For <see cref="BudgetDimension.InputTokens"/>
    /// and <see cref="BudgetDimension.OutputTokens"/> a stated limit is taken as per minute, as Anthropic states it; for
    /// the per-day dimensions, as per day. A stated limit is adopted unless the configured one is lower (and
    /// <see cref="PartitionLimits.LearnBudgets"/> is on); what remains lowers the allowance until the reset.
    /// </summary>
    /// <param name="dimension">The budget the headers describe.</param>
    /// <param name="remaining">What the provider says is left.</param>
    /// <param name="resetAt">When the provider says its budget is whole again.</param>
    /// <param name="limit">The provider's budget, when it says.</param>
    public abstract void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit = null);

    /// <summary>Replaces the partition's limits from now on (for example budgets learned from a provider). The value is validated and copied.</summary>
    /// <param name="limits">The new limits.</param>
    public abstract void UpdateLimits(PartitionLimits limits);

    /// <summary>
    /// Feeds one finished attempt to the adaptive limits (concurrency, and the request rate learned from 429s).
    /// Called by the dispatcher while the attempt still holds its slot, once per attempt, before any pause the answer
    /// states. The base implementation learns nothing and returns zero.
    /// </summary>
    /// <param name="lease">The attempt's lease, admitted by this partition.</param>
    /// <param name="signal">What the attempt said about the upstream's capacity.</param>
    /// <param name="waitStated">For a 429: whether the answer said how long to wait (then the dispatcher pauses the
    /// partition for that); when it did not, the partition infers the wait itself.</param>
    /// <returns>The pause the partition chose for a 429 that stated no wait (the dispatcher waits that long before
    /// trying again); zero otherwise.</returns>
    protected internal virtual TimeSpan RecordOutcome(GateLease lease, PacingSignal signal, bool waitStated = true) => TimeSpan.Zero;

    /// <summary>
    /// <see cref="ObserveBudget(BudgetDimension, long, DateTimeOffset, long?)"/> for the headers of the answer to
    /// <paramref name="lease"/>: a provider counts what remains when it admits a request, so the count may be as old as
    /// the lease, and the budget has refilled since. Called by the dispatcher for every budget an answer states; the
    /// base implementation ignores the lease.
    /// </summary>
    /// <param name="dimension">The budget the headers describe.</param>
    /// <param name="remaining">What the provider says is left.</param>
    /// <param name="resetAt">When the provider says its budget is whole again.</param>
    /// <param name="limit">The provider's budget, when it says.</param>
    /// <param name="lease">The lease of the attempt the answer belongs to.</param>
    protected internal virtual void ObserveAnswerBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, GateLease lease) =>
        ObserveBudget(dimension, remaining, resetAt, limit);

    /// <summary>
    /// Says that an answer's rate-limit headers (if it had any) have all been observed, ending the wait of
    /// <see cref="PartitionLimits.AwaitFirstHeaders"/>. Called by the dispatcher once per answer, after every
    /// <see cref="ObserveAnswerBudget"/>. The base implementation does nothing.
    /// </summary>
    protected internal virtual void HeadersObserved()
    {
    }

    /// <summary>
    /// Called once when a lease this partition admitted is disposed: its concurrency slot is free. Never called for a
    /// rejection, and never twice for one lease, whatever the caller does.
    /// </summary>
    /// <param name="lease">The lease, made by <see cref="CreateLease"/> on this partition.</param>
    protected internal abstract void OnLeaseReleased(GateLease lease);

    /// <summary>
    /// Called when a lease this partition admitted is settled: one token dimension's reservation,
    /// <paramref name="previous"/>, is replaced by <paramref name="actual"/>. Charge the difference when positive, refund
    /// it when negative. May come before or after <see cref="OnLeaseReleased"/>, and more than once per dimension
    /// (each call carries what the previous one left).
    /// </summary>
    /// <param name="lease">The lease, made by <see cref="CreateLease"/> on this partition.</param>
    /// <param name="dimension"><see cref="BudgetDimension.Tokens"/>, <see cref="BudgetDimension.InputTokens"/> or <see cref="BudgetDimension.OutputTokens"/>.</param>
    /// <param name="actual">The cost the lease holds from now on.</param>
    /// <param name="previous">The cost it held until now.</param>
    protected internal abstract void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous);

    /// <summary>
    /// An admission from this partition: a lease holding the reservation of <paramref name="request"/> that calls
    /// <see cref="OnLeaseReleased"/> when disposed and <see cref="OnLeaseSettled"/> when settled.
    /// </summary>
    /// <param name="request">What was admitted: its token fields are the reservation.</param>
    /// <param name="waitTime">How long the caller waited.</param>
    /// <param name="admittedAt">The partition clock's timestamp at admission (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="admission">The partition's count of admissions, this one included.</param>
    /// <param name="ticket">A number of the implementation's choosing, read back from <see cref="GateLease.Ticket"/>.</param>
    /// <returns>An admitted lease.</returns>
    protected GateLease CreateLease(AdmissionRequest request, TimeSpan waitTime, long admittedAt, long admission, long ticket = 0) =>
        new(this, BudgetCost.Of(request), ticket, waitTime, admittedAt, admission);

    /// <summary>A rejection: a lease that admits nothing and holds nothing.</summary>
    /// <param name="reason">Why; not <see cref="GateRejectionReason.None"/>.</param>
    /// <param name="message">A sentence for people; never include a credential.</param>
    /// <param name="retryAfter">When an attempt might succeed, if the partition can tell.</param>
    /// <returns>A rejected lease.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="reason"/> is <see cref="GateRejectionReason.None"/>.</exception>
    protected static GateLease CreateRejection(GateRejectionReason reason, string message, TimeSpan? retryAfter = null)
    {
        ArgumentOutOfRangeException.ThrowIfEqual(reason, GateRejectionReason.None);
        ArgumentNullException.ThrowIfNull(message);
        return new(reason, message, retryAfter);
    }

    /// <summary>The partition's state now.</summary>
    /// <returns>A snapshot.</returns>
    public abstract PartitionSnapshot GetSnapshot();

    /// <summary>
    /// This partition as a <see cref="RateLimiter"/> whose permits are tokens, so it composes with
    /// <see cref="RateLimiter.CreateChained"/>, Polly and ASP.NET Core's rate limiting. Acquiring goes through the whole
    /// gate (concurrency, requests, tokens); disposing the lease releases the concurrency slot; failed attempts carry
    /// <see cref="MetadataName.RetryAfter"/>. Settlement is not available through this view.
    /// </summary>
    /// <returns>A rate limiter over this partition, the same one at every call.</returns>
    public virtual RateLimiter AsRateLimiter() =>
        LazyInitializer.EnsureInitialized(ref _rateLimiter, () => new PartitionRateLimiter(this));

    /// <summary>How long the partition has had nothing in flight and nobody waiting; null while busy, or when the implementation cannot tell.</summary>
    internal virtual TimeSpan? IdleDuration => null;

    /// <summary>Admissions so far, for <see cref="RateLimiter.GetStatistics"/>; 0 when the implementation does not count.</summary>
    internal virtual long TotalAdmitted => 0;

    /// <summary>Rejections so far, for <see cref="RateLimiter.GetStatistics"/>; 0 when the implementation does not count.</summary>
    internal virtual long TotalRejected => 0;
}
