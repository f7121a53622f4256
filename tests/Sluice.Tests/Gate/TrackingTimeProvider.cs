using Microsoft.Extensions.Time.Testing;

namespace Sluice.Tests.Gate;

/// <summary>
/// A fake clock that also knows every timer it made and when each is due, so a simulation can jump straight to the
/// next instant anything can happen, and a test can count how often the gate sets a timer.
/// </summary>
internal sealed class TrackingTimeProvider : TimeProvider
{
    private readonly List<TrackedTimer> _timers = [];

    public TrackingTimeProvider() => Fake = new FakeTimeProvider(GateTestKit.Start);

    public FakeTimeProvider Fake { get; }

    public int TimersCreated { get; private set; }

    public int TimerChanges { get; private set; }

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => Fake.LocalTimeZone;

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    /// <summary>The earliest instant an armed timer fires, if any.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            DateTimeOffset? next = null;
            foreach (var timer in _timers)
            {
                if (timer.DueAt is { } due && (next is null || due < next))
                {
                    next = due;
                }
            }

            return next;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        TimersCreated++;
        var tracked = new TrackedTimer(this);
        tracked.Inner = Fake.CreateTimer(
            s =>
            {
                tracked.DueAt = null;
                callback(s);
            },
            state,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        _timers.Add(tracked);
        tracked.Change(dueTime, period);
        return tracked;
    }

    private sealed class TrackedTimer(TrackingTimeProvider owner) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public DateTimeOffset? DueAt { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            Assert.Equal(Timeout.InfiniteTimeSpan, period); // the gate never asks for a periodic timer: no polling
            owner.TimerChanges++;
            DueAt = dueTime == Timeout.InfiniteTimeSpan ? null : owner.GetUtcNow() + dueTime;
            return Inner.Change(dueTime, period);
        }

        public void Dispose()
        {
            DueAt = null;
            owner._timers.Remove(this);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
