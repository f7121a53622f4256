using System.Numerics;
using CsCheck;
using Sluice.Dispatch;

namespace Sluice.Tests.Dispatch;

public sealed class RetryBackoffTests
{
    private static readonly long MaxBaseTicks = TimeSpan.FromHours(1).Ticks;
    private static readonly long MaxCapTicks = TimeSpan.FromDays(1).Ticks;

    // The ranges DispatcherOptions accepts: base up to an hour, cap up to a day, jitter in [0, 1].
    private static readonly Gen<(int Failures, TimeSpan Base, TimeSpan Max, double Jitter, double Draw)> Inputs =
        Gen.Select(
            Gen.Int[1, 100],
            Gen.Long[0, MaxBaseTicks].Select(TimeSpan.FromTicks),
            Gen.Long[0, MaxCapTicks].Select(TimeSpan.FromTicks),
            Gen.Double[0, 1],
            Gen.Double[0, 1]);

    [Fact]
    public void Delay_ForAnyFailureCount_LiesWithinTheJitterBandBelowTheCappedExponential()
    {
        Inputs.Sample((failures, baseDelay, max, jitter, draw) =>
        {
            long d = CappedExponentialTicks(failures, baseDelay, max);

            var delay = RetryBackoff.Delay(failures, baseDelay, max, jitter, draw);

            // One tick of slack below: the product is truncated to whole ticks.
            long lowest = (long)Math.Floor(d * (1 - jitter)) - 1;
            Assert.InRange(delay.Ticks, lowest, d);
        });
    }

    [Fact]
    public void Delay_ForAnyInput_IsNeverAboveMaxNorNegative()
    {
        Gen.Select(Gen.Int[-5, 100_000], Inputs).Sample((failures, input) =>
        {
            var delay = RetryBackoff.Delay(failures, input.Base, input.Max, input.Jitter, input.Draw);

            Assert.InRange(delay, TimeSpan.Zero, input.Max);
        });
    }

    [Fact]
    public void Delay_WhenRetryAfterGiven_ReturnsItClampedToZeroAndMax()
    {
        var retryAfter = Gen.Long[-MaxCapTicks, 2 * MaxCapTicks].Select(TimeSpan.FromTicks);
        Gen.Select(Inputs, retryAfter).Sample((input, asked) =>
        {
            var delay = RetryBackoff.Delay(input.Failures, input.Base, input.Max, input.Jitter, input.Draw, asked);

            var expected = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > input.Max ? input.Max : asked;
            Assert.Equal(expected, delay);
        });
    }

    [Fact]
    public void TransientDelay_IsTheLongerOfTheBackoffAndTheClampedRetryAfter()
    {
        var retryAfter = Gen.Long[-MaxCapTicks, 2 * MaxCapTicks].Select(TimeSpan.FromTicks);
        Gen.Select(Inputs, retryAfter).Sample((input, asked) =>
        {
            var backoff = RetryBackoff.Delay(input.Failures, input.Base, input.Max, input.Jitter, input.Draw);
            var clamped = asked < TimeSpan.Zero ? TimeSpan.Zero : asked > input.Max ? input.Max : asked;

            var delay = RetryBackoff.TransientDelay(input.Failures, input.Base, input.Max, input.Jitter, input.Draw, asked);

            Assert.Equal(clamped > backoff ? clamped : backoff, delay);
            Assert.Equal(backoff, RetryBackoff.TransientDelay(input.Failures, input.Base, input.Max, input.Jitter, input.Draw, retryAfter: null));
        });
    }

    [Fact]
    public void Delay_WithoutJitter_NeverShrinksAsFailuresGrow()
    {
        Inputs.Sample((failures, baseDelay, max, _, _) =>
        {
            var now = RetryBackoff.Delay(failures, baseDelay, max, jitter: 0, random01: 0.7);
            var next = RetryBackoff.Delay(failures + 1, baseDelay, max, jitter: 0, random01: 0.7);

            Assert.True(next >= now, $"{failures + 1} failures gave {next}, fewer gave {now}");
        });
    }

    [Theory]
    [InlineData(1, 1_000)]
    [InlineData(2, 2_000)]
    [InlineData(3, 4_000)]
    [InlineData(4, 5_000)]
    [InlineData(60, 5_000)]
    public void Delay_WithoutJitter_DoublesFromBaseUpToMax(int failures, int expectedMs)
    {
        var delay = RetryBackoff.Delay(failures, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), jitter: 0.5, random01: 0);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), delay);
    }

    [Theory]
    [InlineData(0.0, 4_000)]
    [InlineData(0.5, 3_000)]
    [InlineData(0.999_999_999, 2_000)]
    public void Delay_WithHalfJitter_SpreadsOverTheUpperHalf(double draw, int expectedMs)
    {
        var delay = RetryBackoff.Delay(3, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), jitter: 0.5, random01: draw);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs).TotalMilliseconds, delay.TotalMilliseconds, precision: 0);
    }

    /// <summary>min(max, base·2^(n−1)) in exact integer arithmetic.</summary>
    private static long CappedExponentialTicks(int failures, TimeSpan baseDelay, TimeSpan max)
    {
        var exponential = new BigInteger(baseDelay.Ticks) << Math.Max(0, failures - 1);
        return (long)BigInteger.Min(max.Ticks, exponential);
    }
}
