using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// What another gate's partition may build as a rejection (<c>GatePartition.CreateRejection</c>): a reason other than
/// None and a message; anything else is the implementation's bug and throws at once, not in a caller's hands later.
/// </summary>
public sealed class GatePartitionRejectionArgumentsTests
{
    [Fact]
    public void CreateRejection_WithReasonNone_Throws()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => RejectingPartition.Reject(GateRejectionReason.None, "no"));
        Assert.Equal("reason", error.ParamName);
    }

    [Fact]
    public void CreateRejection_WithoutAMessage_Throws()
    {
        var error = Assert.Throws<ArgumentNullException>(() => RejectingPartition.Reject(GateRejectionReason.Stopped, null!));
        Assert.Equal("message", error.ParamName);
    }

    [Fact]
    public void CreateRejection_WithAReasonAndAMessage_IsARejectionCarryingThem()
    {
        var lease = RejectingPartition.Reject(GateRejectionReason.Stopped, "stopped by test", TimeSpan.FromSeconds(3));

        Assert.False(lease.IsAdmitted);
        Assert.Equal(GateRejectionReason.Stopped, lease.Rejection);
        Assert.Equal("stopped by test", lease.RejectionMessage);
        Assert.Equal(TimeSpan.FromSeconds(3), lease.RetryAfter);
    }

    /// <summary>The least another gate's partition can be: it exists here only to reach the protected factory.</summary>
    private sealed class RejectingPartition : GatePartition
    {
        public override string Key => "rejecting";

        public override int ConcurrencyLimit { get; set; } = 1;

        public static GateLease Reject(GateRejectionReason reason, string message, TimeSpan? retryAfter = null) =>
            CreateRejection(reason, message, retryAfter);

        public override ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(TryAcquire(request));

        public override GateLease TryAcquire(AdmissionRequest request) => Reject(GateRejectionReason.Stopped, "always");

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

        public override PartitionSnapshot GetSnapshot() => new(Key, 0, 0, ConcurrencyLimit, null, null, null, "always");

        protected internal override void OnLeaseReleased(GateLease lease)
        {
        }

        protected internal override void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous)
        {
        }
    }
}
