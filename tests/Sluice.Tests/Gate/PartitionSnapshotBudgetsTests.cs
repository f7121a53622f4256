using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>A snapshot made without budgets lists none, rather than handing its reader a null.</summary>
public sealed class PartitionSnapshotBudgetsTests
{
    [Fact]
    public void Budgets_WhenNoneWereGiven_IsEmpty()
    {
        var snapshot = new PartitionSnapshot("p", 0, 0, 1, null, null, null, null);

        Assert.NotNull(snapshot.Budgets);
        Assert.Empty(snapshot.Budgets);
        Assert.Empty(default(PartitionSnapshot).Budgets);
    }
}
