namespace Sluice.Gate;

/// <summary>
/// The answer of a gate: either an admission, which holds one concurrency slot and a token reservation until it is
/// disposed, or a rejection with its reason. Dispose an admitted lease when the work ends (its response body read),
/// and call <see cref="Settle"/> once the actual token cost is known.
/// </summary>
public sealed class GateLease : IDisposable
{
    private readonly LocalPartition? _partition;
    private long _reservedTokens;
    private int _released;

    internal GateLease(LocalPartition partition, long reservedTokens, TimeSpan waitTime, long admittedAt, long admission)
    {
        _partition = partition;
        _reservedTokens = reservedTokens;
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

    /// <summary>The partition clock's timestamp at admission, so a late 429 can be matched to the limits it started under.</summary>
    /// <summary>The partition's count of admissions when this one was admitted (1 for the first): the rate probe counts with it.</summary>
    internal long Admission { get; }

    internal long AdmittedAt { get; }

    /// <summary>The tokens this lease holds against the token budget: the estimate, or the settled cost.</summary>
    public long ReservedTokens => Volatile.Read(ref _reservedTokens);

    /// <summary>
    /// Replaces the reservation with the actual cost: a refund when the estimate was high, an extra charge when it
    /// was low (the budget may go negative and then admits nothing until it recovers). May be called after
    /// <see cref="Dispose"/>, since usage often arrives with the end of a response.
    /// </summary>
    /// <param name="actualTokens">The tokens the work actually used.</param>
    /// <exception cref="InvalidOperationException">The lease was a rejection.</exception>
    public void Settle(long actualTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actualTokens);
        if (_partition is null)
        {
            throw new InvalidOperationException("A rejected lease holds no reservation to settle.");
        }

        long previous = Interlocked.Exchange(ref _reservedTokens, actualTokens);
        _partition.Settle(actualTokens, previous);
    }

    /// <summary>Releases the concurrency slot. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            _partition!.Release();
        }
    }
}
