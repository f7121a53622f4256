using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>A 429 that states no wait (nginx's limit_req, most gateways): the partition infers one.</summary>
public sealed class InferredThrottleWaitTests
{
    [Fact]
    public void UnderARequestRate_A429EmptiesTheBucket_WithoutPausing_SoTheRetryWaitsOneInterval()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100, RequestsPerWindow = 2_400, LearnBudgets = false });
        var refused = partition.Enter(new AdmissionRequest()).Admitted();

        var pause = partition.RecordOutcome(refused, PacingSignal.Throttled, waitStated: false);
        refused.Dispose();

        Assert.Equal(TimeSpan.Zero, pause);
        Assert.Null(partition.GetSnapshot().PausedUntil);

        // 40 a second: the next request goes 25 ms later, not after a second's pause.
        var retry = partition.Enter(new AdmissionRequest(AtFront: true));
        time.Advance(TimeSpan.FromMilliseconds(24));
        retry.AssertWaiting();
        time.Advance(TimeSpan.FromMilliseconds(1));
        retry.Admitted().Dispose();
    }

    [Fact]
    public void UnderARequestRate_EachRefusalEventHalvesTheBurst_ButNotBelowOne()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100, RequestsPerWindow = 2_400, LearnBudgets = false });

        // One second's worth (40) was the burst; three events later it is five.
        for (int i = 0; i < 3; i++)
        {
            var pending = partition.Enter(new AdmissionRequest());
            time.Advance(TimeSpan.FromMilliseconds(100));
            var lease = pending.Admitted();
            time.Advance(TimeSpan.FromMilliseconds(1));
            partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: false);
            lease.Dispose();
        }

        // Idle for a long time: the bucket refills to its burst, no further.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(5, partition.GetSnapshot().RequestsAvailable!.Value, precision: 6);

        for (int i = 0; i < 10; i++)
        {
            var lease = partition.Enter(new AdmissionRequest());
            time.Advance(TimeSpan.FromMilliseconds(100));
            var admitted = lease.Admitted();
            time.Advance(TimeSpan.FromMilliseconds(1));
            partition.RecordOutcome(admitted, PacingSignal.Throttled, waitStated: false);
            admitted.Dispose();
        }

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, partition.GetSnapshot().RequestsAvailable!.Value, precision: 6);
    }

    [Fact]
    public void WithNoRateKnown_RefusalsWithNoAnswerBetween_PauseFiftyMillisecondsThenTwiceAsLongEachTime()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100, LearnBudgets = false });
        TimeSpan[] expected = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)];
        foreach (var wait in expected)
        {
            var lease = partition.Enter(new AdmissionRequest()).Admitted();
            time.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(wait, partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: false));
            lease.Dispose();

            var next = partition.Enter(new AdmissionRequest());
            time.Advance(wait - TimeSpan.FromMilliseconds(1));
            next.AssertWaiting();
            time.Advance(TimeSpan.FromMilliseconds(1));
            next.Admitted().Dispose();
        }

        // An answer in between starts the count again.
        var answered = partition.Enter(new AdmissionRequest()).Admitted();
        partition.RecordOutcome(answered, PacingSignal.Success);
        answered.Dispose();
        var refused = partition.Enter(new AdmissionRequest()).Admitted();
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromMilliseconds(50), partition.RecordOutcome(refused, PacingSignal.Throttled, waitStated: false));
    }

    [Fact]
    public void RefusalsOfOneEvent_PauseOnce()
    {
        var (partition, time, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100, LearnBudgets = false });
        var leases = Enumerable.Range(0, 5).Select(_ => partition.Enter(new AdmissionRequest()).Admitted()).ToList();
        time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(TimeSpan.FromMilliseconds(50), partition.RecordOutcome(leases[0], PacingSignal.Throttled, waitStated: false));
        foreach (var lease in leases.Skip(1))
        {
            // Started together with the first, refused together: the same event, no longer pause.
            Assert.Equal(TimeSpan.Zero, partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: false));
        }
    }

    [Fact]
    public void AStatedWait_IsLeftToTheCaller()
    {
        var (partition, _, _) = GateTestKit.Create(new PartitionLimits { MaxConcurrency = 100, LearnBudgets = false });
        var lease = partition.Enter(new AdmissionRequest()).Admitted();

        Assert.Equal(TimeSpan.Zero, partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: true));
        Assert.Null(partition.GetSnapshot().PausedUntil);
    }
}
