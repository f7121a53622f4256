using Microsoft.Extensions.Time.Testing;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Builds partitions on a fake clock. Gate admissions happen synchronously inside Advance and Dispose.</summary>
internal static class GateTestKit
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static (GatePartition Partition, FakeTimeProvider Time, SluiceGate Gate) Create(PartitionLimits limits, string key = "p")
    {
        var time = new FakeTimeProvider(Start);
        var options = new GateOptions { DefaultLimits = limits };
        var gate = SluiceGate.Create(options, time);
        return (gate.GetPartition(key), time, gate);
    }

    /// <summary>Acquire as a Task: the tests look at completion more than once, which a ValueTask does not allow.</summary>
    public static Task<GateLease> Enter(this GatePartition partition, AdmissionRequest request, CancellationToken cancellationToken = default) =>
        partition.AcquireAsync(request, cancellationToken).AsTask();

    /// <summary>The lease of a caller that has been admitted by now.</summary>
    public static GateLease Admitted(this Task<GateLease> pending)
    {
        Assert.True(pending.IsCompletedSuccessfully, "expected an admission by now");
        var lease = pending.Result;
        Assert.True(lease.IsAdmitted, $"expected admission, got {lease.Rejection}: {lease.RejectionMessage}");
        return lease;
    }

    /// <summary>The rejection a caller has received by now.</summary>
    public static GateLease Rejected(this Task<GateLease> pending)
    {
        Assert.True(pending.IsCompletedSuccessfully, "expected an answer by now");
        Assert.False(pending.Result.IsAdmitted, "expected a rejection");
        return pending.Result;
    }

    public static void AssertWaiting(this Task<GateLease> pending) =>
        Assert.False(pending.IsCompleted, "expected the caller to wait");
}
