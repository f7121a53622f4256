using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Settling a lease wrongly throws with a sentence that says what was wrong, not a bare exception type.</summary>
public sealed class GateLeaseMisuseMessageTests
{
    [Fact]
    public void Settle_ARejection_SaysItHoldsNoReservation()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 1 });
        using var held = partition.TryAcquire(new AdmissionRequest(1));
        var rejection = partition.TryAcquire(new AdmissionRequest(1));
        Assert.False(rejection.IsAdmitted);

        var error = Assert.Throws<InvalidOperationException>(() => rejection.Settle(1));

        Assert.Contains("no reservation", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Settle_ADimensionThatIsNotTokens_SaysOnlyTokenDimensionsAreSettled()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits());
        using var lease = partition.TryAcquire(new AdmissionRequest(1));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => lease.Settle(BudgetDimension.Requests, 1));

        Assert.Equal("dimension", error.ParamName);
        Assert.Contains("token dimensions", error.Message, StringComparison.Ordinal);
    }
}
