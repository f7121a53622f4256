using Sluice.Adaptive;

namespace Sluice.Tests.Adaptive;

public sealed class AimdLimitTests
{
    [Fact]
    public void Update_InSlowStart_GrowsByOnePerSuccessWhileTheLimitIsUsed()
    {
        var aimd = new AimdLimit(max: 100);
        Assert.Equal(AimdLimit.InitialLimit, aimd.Limit);

        for (int i = 0; i < 10; i++)
        {
            aimd.Update(PacingSignal.Success, inFlight: aimd.Limit, startedAt: i, now: i + 1);
        }

        Assert.Equal(AimdLimit.InitialLimit + 10, aimd.Limit);
        Assert.True(aimd.InSlowStart);
    }

    [Fact]
    public void Update_WhenFewerThanHalfTheSlotsAreUsed_DoesNotGrow()
    {
        var aimd = new AimdLimit(max: 100, initial: 20);

        for (int i = 0; i < 50; i++)
        {
            aimd.Update(PacingSignal.Success, inFlight: 9, startedAt: i, now: i + 1);
        }

        Assert.Equal(20, aimd.Limit);
    }

    [Fact]
    public void Update_OnFirstDrop_HalvesAndLeavesSlowStart_ThenCutsByTheBackoffRatio()
    {
        var aimd = new AimdLimit(max: 100, initial: 40);

        Assert.Equal(20, aimd.Update(PacingSignal.Throttled, inFlight: 40, startedAt: 10, now: 20));
        Assert.False(aimd.InSlowStart);
        Assert.Equal(18, aimd.Update(PacingSignal.Overloaded, inFlight: 20, startedAt: 21, now: 30));
    }

    [Fact]
    public void Update_DropsFromRequestsStartedBeforeTheLastCut_AreOneCongestionEvent()
    {
        var aimd = new AimdLimit(max: 100, initial: 40);
        aimd.Update(PacingSignal.Throttled, inFlight: 40, startedAt: 10, now: 20);

        // Twenty more 429s from the same burst: all started before the cut at 20.
        for (int i = 0; i < 20; i++)
        {
            aimd.Update(PacingSignal.Throttled, inFlight: 30, startedAt: 11 + (i % 9), now: 21 + i);
        }

        Assert.Equal(20, aimd.Limit);
    }

    [Fact]
    public void Update_NeverLeavesItsBounds()
    {
        var aimd = new AimdLimit(max: 6, min: 2, initial: 3);
        for (int i = 0; i < 100; i++)
        {
            aimd.Update(PacingSignal.Success, inFlight: 6, startedAt: i, now: i);
        }

        Assert.Equal(6, aimd.Limit);

        for (int i = 0; i < 100; i++)
        {
            aimd.Update(PacingSignal.Overloaded, inFlight: 6, startedAt: 1000 + (2 * i), now: 1001 + (2 * i));
        }

        Assert.Equal(2, aimd.Limit);
    }

    [Fact]
    public void Update_IgnoresSignalsThatSayNothingAboutCapacity()
    {
        var aimd = new AimdLimit(max: 100, initial: 10);

        aimd.Update(PacingSignal.None, inFlight: 10, startedAt: 1, now: 2);

        Assert.Equal(10, aimd.Limit);
        Assert.True(aimd.InSlowStart);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(20)]
    [InlineData(64)]
    public void Update_AgainstAStableUpstreamLimit_HoldsJustUnderItWithoutDrift(int capacity)
    {
        // An upstream that serves `capacity` requests at once and refuses the rest, one round trip per step: every
        // request of a round starts together and reports at the end of the round.
        var aimd = new AimdLimit(max: 1000);
        long now = 0;
        int rounds = 3000, maxAfterWarmUp = 0;
        long sent = 0, refusedTotal = 0;
        double sum = 0;
        for (int round = 0; round < rounds; round++)
        {
            int limit = aimd.Limit;
            long started = now;
            now += 100;
            int refused = Math.Max(0, limit - capacity);
            for (int i = 0; i < limit - refused; i++)
            {
                aimd.Update(PacingSignal.Success, inFlight: limit, started, now);
            }

            for (int i = 0; i < refused; i++)
            {
                aimd.Update(PacingSignal.Throttled, inFlight: limit, started, now);
            }

            if (round >= 200)
            {
                sent += limit;
                refusedTotal += refused;
                maxAfterWarmUp = Math.Max(maxAfterWarmUp, limit);
                sum += Math.Min(limit, capacity);
            }
        }

        double meanServed = sum / (rounds - 200);
        Assert.True(maxAfterWarmUp <= capacity + 1, $"the limit drifted to {maxAfterWarmUp} above a stable {capacity}");
        Assert.True(meanServed >= 0.85 * capacity, $"held {meanServed:F1} on average, under 85% of {capacity}");
        Assert.True(refusedTotal <= 0.02 * sent, $"{refusedTotal} of {sent} requests drew 429s");
    }

    [Fact]
    public void Update_WhenTheUpstreamGainsRoom_ClimbsPastTheOldCeiling()
    {
        var aimd = new AimdLimit(max: 1000);
        long now = 0;
        void Round(int capacity)
        {
            int limit = aimd.Limit;
            long started = now;
            now += 100;
            for (int i = 0; i < limit; i++)
            {
                aimd.Update(i < capacity ? PacingSignal.Success : PacingSignal.Throttled, limit, started, now);
            }
        }

        for (int i = 0; i < 300; i++)
        {
            Round(10);
        }

        Assert.InRange(aimd.Limit, 8, 11);
        for (int i = 0; i < 300; i++)
        {
            Round(40);
        }

        Assert.InRange(aimd.Limit, 30, 41);
    }

    [Fact]
    public void Constructor_RejectsBoundsThatMakeNoLimit_AndClampsTheStart()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new AimdLimit(max: 10, min: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AimdLimit(max: 4, min: 5));
        Assert.Equal(5, new AimdLimit(max: 5, min: 5).Limit);
        Assert.Equal(6, new AimdLimit(max: 6, min: 1, initial: 50).Limit);
        Assert.Equal(3, new AimdLimit(max: 10, min: 3, initial: 1).Limit);
    }

    [Fact]
    public void Update_WhenExactlyHalfTheSlotsAreUsed_Grows()
    {
        // Half the slots in use is the edge of "the limit held the caller back": it counts.
        var aimd = new AimdLimit(max: 100, initial: 20);

        Assert.Equal(21, aimd.Update(PacingSignal.Success, inFlight: 10, startedAt: 0, now: 1));
    }

    [Fact]
    public void Update_ADropFromARequestStartedAtTheInstantOfTheLastCut_IsTheSameEvent()
    {
        var aimd = new AimdLimit(max: 100, initial: 40);
        Assert.Equal(20, aimd.Update(PacingSignal.Throttled, inFlight: 40, startedAt: 10, now: 20));

        // Started at 20, when the cut happened: it was sent before the cut could slow anything down.
        Assert.Equal(20, aimd.Update(PacingSignal.Throttled, inFlight: 20, startedAt: 20, now: 25));
        Assert.Equal(18, aimd.Update(PacingSignal.Throttled, inFlight: 20, startedAt: 21, now: 26));
    }

    [Fact]
    public void Update_AfterSlowStart_GrowsByOneSlotPerRoundTrip_NotOnePerSuccess()
    {
        var aimd = new AimdLimit(max: 100, initial: 40);
        aimd.Update(PacingSignal.Throttled, inFlight: 40, startedAt: 10, now: 20);
        Assert.Equal(20, aimd.Limit);

        // Each success adds 1/limit: twenty-one successes (one round trip at 20) make one slot, forty-two make two.
        Succeed(aimd, 21);
        Assert.Equal(21, aimd.Limit);
        Succeed(aimd, 21);
        Assert.Equal(22, aimd.Limit);
        Assert.False(aimd.InSlowStart);
    }

    [Fact]
    public void Update_NearTheLimitThatDrewTheLastDrop_ProbesTenTimesSlower_AndPastItForgetsIt()
    {
        // Two cuts: 40 halves to 20 (ending slow start), then 20 → 18 with the drop drawn at 20.
        var aimd = new AimdLimit(max: 100, initial: 40);
        aimd.Update(PacingSignal.Throttled, inFlight: 40, startedAt: 10, now: 20);
        Assert.Equal(18, aimd.Update(PacingSignal.Overloaded, inFlight: 20, startedAt: 21, now: 30));

        // Up to one below it (19) at the ordinary pace: about a round trip.
        Succeed(aimd, 19);
        Assert.Equal(19, aimd.Limit);

        // From 19 on, a tenth of the pace: 100 more successes (five round trips) do not reach 20.
        Succeed(aimd, 100);
        Assert.Equal(19, aimd.Limit);
        Succeed(aimd, 100);
        Assert.Equal(20, aimd.Limit);

        // Past 21 (one above the old drop) the drop is forgotten and growth is back to a slot per round trip: from
        // 22 to 23 in about 22 successes rather than 220.
        Succeed(aimd, 217);
        Assert.Equal(22, aimd.Limit);
        Succeed(aimd, 25);
        Assert.Equal(23, aimd.Limit);
    }

    [Fact]
    public void Update_InSlowStart_StopsAtTheMaximum()
    {
        var aimd = new AimdLimit(max: 10, initial: 8);

        Succeed(aimd, 5);

        Assert.Equal(10, aimd.Limit);
        Assert.True(aimd.InSlowStart);

        // And a cut from the maximum halves the maximum, not an overshoot beyond it.
        Assert.Equal(5, aimd.Update(PacingSignal.Throttled, inFlight: 10, startedAt: 100, now: 101));
    }

    private static void Succeed(AimdLimit aimd, int times)
    {
        for (int i = 0; i < times; i++)
        {
            aimd.Update(PacingSignal.Success, inFlight: aimd.Limit, startedAt: 1_000, now: 1_001);
        }
    }
}
