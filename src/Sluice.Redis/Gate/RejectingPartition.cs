using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>What a full Redis gate hands out instead of a new partition: a stopped partition that holds nothing.</summary>
internal sealed class RejectingPartition(string reason) : GatePartition
{
    public override string Key => "(partition limit)";

    public override int ConcurrencyLimit
    {
        get => 1;
        set => ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
    }

    public override ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<GateLease>(cancellationToken) : new(TryAcquire(request));

    public override GateLease TryAcquire(AdmissionRequest request) => CreateRejection(GateRejectionReason.Stopped, reason);

    public override void PauseUntil(DateTimeOffset until)
    {
    }

    public override void Stop(string reason)
    {
    }

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

    protected override void OnLeaseReleased(GateLease lease)
    {
    }

    protected override void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous)
    {
    }
}
