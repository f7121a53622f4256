using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>Ten years or more count as forever: a quarter of <see cref="long.MaxValue"/>, which a timestamp can be added to without overflow.</summary>
public sealed class TimestampsForeverTests
{
    private const long Frequency = TimeSpan.TicksPerSecond;

    [Fact]
    public void FromTimeSpan_ExactlyTenYears_IsForever()
    {
        Assert.Equal(long.MaxValue / 4, Timestamps.FromTimeSpan(TimeSpan.FromDays(3650), Frequency));
    }

    [Fact]
    public void FromTimeSpan_TheLongestSpan_IsForever_AndAddingItToNowDoesNotOverflow()
    {
        // The fake clock's timestamps are DateTime ticks (about 6.4e17 in 2026), so a naive forever would overflow.
        long now = GateTestKit.Start.UtcTicks;
        long forever = Timestamps.FromTimeSpan(TimeSpan.MaxValue, Frequency);

        Assert.Equal(long.MaxValue / 4, forever);
        Assert.True(now + forever > now);
    }

    [Fact]
    public void FromTimeSpan_UnderTenYears_IsConvertedToTheClocksTicks()
    {
        Assert.Equal(3_000, Timestamps.FromTimeSpan(TimeSpan.FromSeconds(3), ticksPerSecond: 1_000));
    }
}
