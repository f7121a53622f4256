namespace Sluice.Gate;

/// <summary>Converts durations to the ticks of a <see cref="TimeProvider"/>'s timestamps.</summary>
internal static class Timestamps
{
    /// <summary>
    /// <paramref name="span"/> in ticks of a clock ticking <paramref name="ticksPerSecond"/> times a second; ten years
    /// or more count as forever (a quarter of <see cref="long.MaxValue"/>, so that adding it to a timestamp never overflows).
    /// </summary>
    public static long FromTimeSpan(TimeSpan span, long ticksPerSecond) =>
        span >= TimeSpan.FromDays(3650) ? long.MaxValue / 4 : (long)(span.Ticks * (ticksPerSecond / (double)TimeSpan.TicksPerSecond));
}
