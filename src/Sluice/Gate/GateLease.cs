namespace Sluice.Gate;

/// <summary>
/// The answer of a gate: either an admission, which holds one concurrency slot until it is disposed and a reservation
/// in every token budget until it is settled, or a rejection with its reason. Dispose an admitted lease when the work
/// ends (its response body read), and settle each dimension once its actual cost is known:
/// <see cref="Settle(long)"/> for the total, <see cref="Settle(BudgetDimension, long)"/> for input and output tokens.
/// </summary>
public sealed class GateLease : IDisposable
{
    private readonly GatePartition? _partition;
    private long _reservedTokens;
    private long _reservedInput;
    private long _reservedOutput;
    private int _released;

    internal GateLease(GatePartition partition, BudgetCost reserved, long ticket, TimeSpan waitTime, long admittedAt, long admission)
    {
        _partition = partition;
        Ticket = ticket;
        _reservedTokens = reserved.Tokens;
        _reservedInput = reserved.Input;
        _reservedOutput = reserved.Output;
        WaitTime = waitTime;
        AdmittedAt = admittedAt;
        Admission = admission;
    }

    internal GateLease(GateRejectionReason rejection, string message, TimeSpan? retryAfter)
    {
        Rejection = rejection;
        RejectionMessage = message;
        RetryAfter = retryAfter;
        _released = 1;
    }

    /// <summary>True when the caller may start its work.</summary>
    public bool IsAdmitted => _partition is not null;

    /// <summary>Why the caller was not admitted; <see cref="GateRejectionReason.None"/> when it was.</summary>
    public GateRejectionReason Rejection { get; }

    /// <summary>A sentence for people explaining a rejection, such as the reason a partition was stopped.</summary>
    public string? RejectionMessage { get; }

    /// <summary>For a rejection, how long until an attempt might succeed, when the gate can tell.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>How long the caller waited at the gate before it was admitted.</summary>
    public TimeSpan WaitTime { get; }

    /// <summary>
    /// The partition's count of admissions when this one was admitted (1 for the first), so a late 429 can be matched
    /// to the admissions it followed; 0 for a rejection.
    /// </summary>
    public long Admission { get; }

    /// <summary>
    /// The partition clock's timestamp at admission (<see cref="TimeProvider.GetTimestamp"/> of the gate's clock), so a
    /// late 429 can be matched to the limits it started under; 0 for a rejection.
    /// </summary>
    public long AdmittedAt { get; }

    /// <summary>
    /// A number the admitting partition chose (see <see cref="GatePartition.CreateLease"/>) to find its own record of
    /// this admission when the lease is settled or released. Means nothing to other callers; 0 for a rejection.
    /// </summary>
    public long Ticket { get; }

    /// <summary>The in-process tenant account the lease was admitted on; null for other gates.</summary>
    internal TenantState? Tenant { get; init; }

    /// <summary>The fairness cost charged to <see cref="Tenant"/>; corrected, under the partition's lock, when the lease settles.</summary>
    internal double FairCost { get; set; }

    /// <summary>The tokens this lease holds against the token budget: the estimate, or the settled cost.</summary>
    public long ReservedTokens => Volatile.Read(ref _reservedTokens);

    /// <summary>What this lease holds against one token dimension: the reservation, or the settled cost.</summary>
    /// <param name="dimension"><see cref="BudgetDimension.Tokens"/>, <see cref="BudgetDimension.InputTokens"/> or <see cref="BudgetDimension.OutputTokens"/>.</param>
    /// <returns>The tokens held; 0 for a rejection.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The dimension is not a token dimension.</exception>
    public long Reserved(BudgetDimension dimension) => Volatile.Read(ref Slot(dimension));

    /// <summary>
    /// Replaces the token reservation (<see cref="BudgetDimension.Tokens"/>, and the per-day token budget) with the
    /// actual cost: a refund when the estimate was high, an extra charge when it was low (the budget may go negative
    /// and then admits nothing until it recovers). May be called after <see cref="Dispose"/>, since usage often arrives
    /// with the end of a response.
    /// </summary>
    /// <param name="actualTokens">The tokens the work actually used.</param>
    /// <exception cref="InvalidOperationException">The lease was a rejection.</exception>
    public void Settle(long actualTokens) => Settle(BudgetDimension.Tokens, actualTokens);

    /// <summary>
    /// Replaces one dimension's reservation with its actual cost, leaving the others as they are: for example the
    /// output tokens an answer produced against the output cap reserved. Like <see cref="Settle(long)"/>, it refunds or
    /// charges the difference, and may be called after <see cref="Dispose"/>.
    /// </summary>
    /// <param name="dimension"><see cref="BudgetDimension.Tokens"/>, <see cref="BudgetDimension.InputTokens"/> or <see cref="BudgetDimension.OutputTokens"/>.</param>
    /// <param name="actual">What the work actually used of it.</param>
    /// <exception cref="InvalidOperationException">The lease was a rejection.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The dimension is not a token dimension, or the amount is negative.</exception>
    public void Settle(BudgetDimension dimension, long actual)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actual);
        ref long slot = ref Slot(dimension);
        if (_partition is null)
        {
            throw new InvalidOperationException("A rejected lease holds no reservation to settle.");
        }

        long previous = Interlocked.Exchange(ref slot, actual);
        _partition.OnLeaseSettled(this, dimension, actual, previous);
    }

    /// <summary>Releases the concurrency slot. Idempotent: the partition hears of it once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _partition!.OnLeaseReleased(this);
        }
    }

    private ref long Slot(BudgetDimension dimension)
    {
        switch (dimension)
        {
            case BudgetDimension.Tokens:
                return ref _reservedTokens;
            case BudgetDimension.InputTokens:
                return ref _reservedInput;
            case BudgetDimension.OutputTokens:
                return ref _reservedOutput;
            default:
                throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Only token dimensions are reserved and settled.");
        }
    }
}
