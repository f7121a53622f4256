namespace Sluice.Gate;

/// <summary>
/// What a full gate hands out instead of a new partition (<see cref="GateOptions.MaxPartitions"/>): a stopped
/// partition that holds nothing and rejects every caller with <see cref="GateRejectionReason.Stopped"/> and a message
/// saying why, so the table of partitions never grows past its bound. Its <see cref="Key"/> is <see cref="RefusedKey"/>,
/// never a caller's key, so a face can tell it apart; it cannot be resumed.
/// </summary>
internal sealed class RefusedPartition(string reason) : GatePartition
{
    /// <summary>The key of every refused partition: not a key any face makes (those contain <c>|</c>).</summary>
    public const string RefusedKey = "(partition limit)";

    public override string Key => RefusedKey;

    public override int ConcurrencyLimit
    {
        get => 1;
        set => ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
    }

    public override ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<GateLease>(cancellationToken) : new(Rejection());

    public override GateLease TryAcquire(AdmissionRequest request) => Rejection();

    public override void PauseUntil(DateTimeOffset until)
    {
    }

    public override void Stop(string reason)
    {
    }

    // Nothing to resume: the refusal lasts as long as the gate is full.
    public override void Resume()
    {
    }

    public override void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit = null)
    {
    }

    public override void UpdateLimits(PartitionLimits limits)
    {
    }

    public override PartitionSnapshot GetSnapshot() => new(Key, 0, 0, 1, null, null, null, reason);

    protected internal override void OnLeaseReleased(GateLease lease)
    {
    }

    protected internal override void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous)
    {
    }

    private GateLease Rejection() => CreateRejection(GateRejectionReason.Stopped, reason);
}
