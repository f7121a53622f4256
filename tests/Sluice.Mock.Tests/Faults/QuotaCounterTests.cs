using Sluice.Mock.Faults;

namespace Sluice.Mock.Tests.Faults;

public class QuotaCounterTests
{
    [Fact]
    public void TryReserve_ServesExactlyN_EvenUnderContention()
    {
        var quota = new QuotaCounter(100);

        var granted = 0;
        Parallel.For(0, 1000, _ =>
        {
            if (quota.TryReserve())
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(100, granted);
    }

    [Fact]
    public void Unreserve_GivesTheUnitBack()
    {
        var quota = new QuotaCounter(1);
        Assert.True(quota.TryReserve());
        Assert.False(quota.TryReserve());

        quota.Unreserve();

        Assert.True(quota.TryReserve());
    }

    [Fact]
    public void Reset_RestoresTheQuota()
    {
        var quota = new QuotaCounter(1);
        quota.TryReserve();

        quota.Reset();

        Assert.True(quota.TryReserve());
    }
}
