namespace Sluice.Tests.Gate;

/// <summary>
/// The discrete-event loop of the gate's property tests: runs scheduled actions in time order on a
/// <see cref="TrackingTimeProvider"/>, advancing the fake clock to whichever comes first, the next action or the gate's
/// next timer, and collecting admissions after every step.
/// </summary>
internal static class GateEventLoop
{
    public static void Run(
        TrackingTimeProvider time,
        DateTimeOffset start,
        PriorityQueue<Action, (double At, long Order)> events,
        Action collectAdmissions)
    {
        double Now() => (time.GetUtcNow() - start).TotalSeconds;
        int guard = 0;
        while (true)
        {
            Assert.True(++guard < 1_000_000, "simulation did not finish");
            double? nextEvent = events.TryPeek(out _, out var key) ? key.At : null;
            double? nextTimer = time.NextDue is { } due ? (due - start).TotalSeconds : null;
            if (nextEvent is null && nextTimer is null)
            {
                return;
            }

            double next = Math.Min(nextEvent ?? double.MaxValue, nextTimer ?? double.MaxValue);
            time.Fake.Advance(TimeSpan.FromTicks(Math.Max(0, (long)Math.Ceiling((next - Now()) * TimeSpan.TicksPerSecond))));
            collectAdmissions();
            while (events.TryPeek(out var action, out key) && key.At <= Now() + 1e-9)
            {
                events.Dequeue();
                action();
                collectAdmissions();
            }
        }
    }
}
