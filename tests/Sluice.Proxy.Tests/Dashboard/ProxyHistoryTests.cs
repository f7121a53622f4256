using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Proxy.Dashboard;

namespace Sluice.Proxy.Tests.Dashboard;

public sealed class ProxyHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 9, 0, 0, 250, TimeSpan.Zero);

    [Fact]
    public void Snapshot_OfAnIdleProxy_HasNoPoints()
    {
        var history = new ProxyHistory(new FakeTimeProvider(Start), ["a"]);

        var snapshot = history.Snapshot();

        Assert.Equal(1, snapshot.IntervalSeconds);
        Assert.Empty(snapshot.Points);
    }

    [Fact]
    public void TryEnded_CountsEachOutcome_InTheSecondItEnded_ListingOnlySecondsWithTries()
    {
        var time = new FakeTimeProvider(Start);
        var history = new ProxyHistory(time, ["a", "b"]);
        long second = Start.ToUnixTimeSeconds();

        history.TryEnded("a", AttemptOutcomeKind.Throttled, retry: false);
        history.TryEnded("a", AttemptOutcomeKind.Success, retry: true);
        time.Advance(TimeSpan.FromSeconds(1));
        history.TryEnded("b", AttemptOutcomeKind.Transient, retry: false);
        history.TryEnded("b", AttemptOutcomeKind.Permanent, retry: true);
        history.TryEnded("b", AttemptOutcomeKind.QuotaExhausted, retry: false);
        time.Advance(TimeSpan.FromSeconds(2));
        history.TryEnded("a", AttemptOutcomeKind.AuthFailed, retry: false);

        Assert.Equal(
            [
                new HistoryPoint(second, 2, 1, 1, 1),
                new HistoryPoint(second + 1, 3, 2, 0, 1),
                new HistoryPoint(second + 3, 1, 1, 0, 0),
            ],
            history.Snapshot().Points);
        Assert.Equal((1, 1), history.TotalsOf("a"));
        Assert.Equal((0, 1), history.TotalsOf("B"));
        Assert.Equal((0, 0), history.TotalsOf("unknown"));
    }

    [Fact]
    public void Seconds_OlderThanFiveMinutes_LeaveTheHistory_WhileTotalsStay()
    {
        var time = new FakeTimeProvider(Start);
        var history = new ProxyHistory(time, ["a"]);
        history.TryEnded("a", AttemptOutcomeKind.Throttled, retry: true);

        time.Advance(TimeSpan.FromSeconds(299));
        Assert.Equal(new HistoryPoint(Start.ToUnixTimeSeconds(), 1, 0, 1, 1), Assert.Single(history.Snapshot().Points));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(history.Snapshot().Points);
        Assert.Equal((1, 1), history.TotalsOf("a"));

        // The ring slot of that second is reused afresh, not added to.
        history.TryEnded("a", AttemptOutcomeKind.Success, retry: false);
        Assert.Equal(new HistoryPoint(Start.ToUnixTimeSeconds() + 300, 1, 1, 0, 0), Assert.Single(history.Snapshot().Points));
    }

    [Fact]
    public void AClockSteppedBack_PastTheRing_DropsTheEvent_RatherThanCorruptANewerSecond()
    {
        var time = new WallClock { Now = Start };
        var history = new ProxyHistory(time, ["a"]);
        history.TryEnded("a", AttemptOutcomeKind.Success, retry: false);
        time.Now = Start - TimeSpan.FromSeconds(300);

        history.TryEnded("a", AttemptOutcomeKind.Throttled, retry: false);

        time.Now = Start;
        Assert.Equal(new HistoryPoint(Start.ToUnixTimeSeconds(), 1, 1, 0, 0), Assert.Single(history.Snapshot().Points));
        // The upstream's total has no seconds: it counts the throttle all the same.
        Assert.Equal((1, 0), history.TotalsOf("a"));
    }

    [Fact]
    public async Task ConcurrentTries_AreEachCountedOnce()
    {
        var time = new FakeTimeProvider(Start);
        var history = new ProxyHistory(time, ["a"]);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                history.TryEnded("a", i % 2 == 0 ? AttemptOutcomeKind.Success : AttemptOutcomeKind.Throttled, retry: i % 4 == 0);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));

        var now = Assert.Single(history.Snapshot().Points);
        Assert.Equal(new HistoryPoint(Start.ToUnixTimeSeconds(), 80_000, 40_000, 40_000, 20_000), now);
        Assert.Equal((40_000, 20_000), history.TotalsOf("a"));
    }

    /// <summary>A wall clock that can be set back, as a system's can (FakeTimeProvider refuses to).</summary>
    private sealed class WallClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
