using Microsoft.Extensions.Time.Testing;
using Sluice.Spend;

namespace Sluice.Tests.Spend;

public sealed class SpendCapTests
{
    [Fact]
    public void TryReserve_AdmitsUpToTheLimitExactly_AndNotACentMore()
    {
        var cap = new SpendCap(1.00m);

        Assert.True(cap.TryReserve(0.60m, out var first));
        Assert.True(cap.TryReserve(0.40m, out _));
        Assert.False(cap.TryReserve(0.000001m, out var refused));
        Assert.Null(refused);
        Assert.Equal(new SpendCapSnapshot(1.00m, 0, 1.00m, null), cap.GetSnapshot());
        Assert.Equal(0.60m, first.Amount);
    }

    [Fact]
    public void Settle_ReplacesTheReservationWithTheActualCost_Once()
    {
        var cap = new SpendCap(1.00m);
        Assert.True(cap.TryReserve(0.50m, out var reservation));

        reservation.Settle(0.20m);
        reservation.Settle(0.45m);
        reservation.Release();

        Assert.Equal((0.20m, 0m), (cap.GetSnapshot().Settled, cap.GetSnapshot().Reserved));
        Assert.True(reservation.IsSettled);
        Assert.True(cap.TryReserve(0.80m, out _));
        Assert.False(cap.TryReserve(0.01m, out _));
    }

    [Fact]
    public void Release_GivesTheWholeReservationBack()
    {
        var cap = new SpendCap(1.00m);
        Assert.True(cap.TryReserve(1.00m, out var reservation));
        Assert.False(cap.TryReserve(0.01m, out _));

        reservation.Release();

        Assert.Equal(new SpendCapSnapshot(1.00m, 0, 0, null), cap.GetSnapshot());
        Assert.True(cap.TryReserve(1.00m, out _));
    }

    [Fact]
    public void Settle_MoreThanReserved_CountsTheMoneySpent_AndRefusesEverythingAfter()
    {
        var cap = new SpendCap(1.00m);
        Assert.True(cap.TryReserve(0.90m, out var reservation));

        reservation.Settle(1.10m);

        Assert.Equal(1.10m, cap.GetSnapshot().Settled);
        Assert.Equal(0m, cap.GetSnapshot().Available);
        Assert.False(cap.TryReserve(0m, out _));
    }

    [Fact]
    public void AZeroCap_RefusesEveryPaidTry_ButNotAFreeOne()
    {
        var cap = new SpendCap(0m);

        Assert.False(cap.TryReserve(0.000001m, out _));
        Assert.True(cap.TryReserve(0m, out _));
    }

    [Fact]
    public void ArgumentsAreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpendCap(-0.01m));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpendCap(1m, (SpendWindow)7));
        var cap = new SpendCap(1m);
        Assert.Throws<ArgumentOutOfRangeException>(() => cap.TryReserve(-0.01m, out _));
        Assert.True(cap.TryReserve(0.5m, out var reservation));
        Assert.Throws<ArgumentOutOfRangeException>(() => reservation.Settle(-1m));
    }

    [Fact]
    public void ADailyCap_StartsAgainAtMidnightUtc_KeepingWhatIsStillReserved()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 23, 59, 0, TimeSpan.Zero));
        var cap = new SpendCap(1.00m, SpendWindow.Day, time);
        Assert.True(cap.TryReserve(0.70m, out var yesterday));
        yesterday.Settle(0.70m);
        Assert.True(cap.TryReserve(0.30m, out var overMidnight));
        Assert.False(cap.TryReserve(0.01m, out _));
        Assert.Equal(new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero), cap.GetSnapshot().ResetsAt);

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(cap.TryReserve(0.01m, out _));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(new SpendCapSnapshot(1.00m, 0m, 0.30m, new DateTimeOffset(2026, 3, 16, 0, 0, 0, TimeSpan.Zero)), cap.GetSnapshot());
        Assert.True(cap.TryReserve(0.70m, out _));
        Assert.False(cap.TryReserve(0.01m, out _));
        overMidnight.Settle(0.10m);
        Assert.Equal((0.10m, 0.70m), (cap.GetSnapshot().Settled, cap.GetSnapshot().Reserved));
    }

    [Fact]
    public void ADailyCap_ReadsTheUtcDay_NotTheLocalOne()
    {
        // 23:30 at UTC-5 is 04:30 UTC the next day: the window turns at 00:00 UTC, five hours earlier in local time.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 14, 18, 0, 0, TimeSpan.FromHours(-5)));
        var cap = new SpendCap(1.00m, SpendWindow.Day, time);

        Assert.Equal(new DateTimeOffset(2026, 3, 15, 0, 0, 0, TimeSpan.Zero), cap.GetSnapshot().ResetsAt);
        Assert.True(cap.TryReserve(1.00m, out var reservation));
        reservation.Settle(1.00m);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0m, cap.GetSnapshot().Settled);
    }

    [Fact]
    public void ATotalCap_NeverResets()
    {
        var time = new FakeTimeProvider();
        var cap = new SpendCap(1.00m, SpendWindow.Total, time);
        Assert.True(cap.TryReserve(1.00m, out var reservation));
        reservation.Settle(1.00m);

        time.Advance(TimeSpan.FromDays(400));

        Assert.Equal(new SpendCapSnapshot(1.00m, 1.00m, 0, null), cap.GetSnapshot());
    }

    [Fact]
    public void ToString_NamesTheCap_AndWhatIsSpentAndReserved()
    {
        var cap = new SpendCap(5m) { Name = "--max-spend" };
        Assert.True(cap.TryReserve(0.25m, out _));

        Assert.Equal("--max-spend ($5.00): $0.00 spent, $0.25 reserved", cap.ToString());
    }
}
