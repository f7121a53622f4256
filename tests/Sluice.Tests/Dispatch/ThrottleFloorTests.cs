using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

/// <summary>
/// A 429 stating a wait of zero, a negative one or a date already past must not send the next try at once: the
/// partition pauses at least the throttle floor, which doubles with each 429 in a row and is reset by a success.
/// </summary>
public sealed class ThrottleFloorTests
{
    private static readonly TimeSpan Step10 = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void FloorFor_DoublesFromTheBase_UpToTheCap_WithoutOverflow()
    {
        Assert.Equal(TimeSpan.Zero, ThrottleFloor.FloorFor(0));
        Assert.Equal(TimeSpan.FromMilliseconds(50), ThrottleFloor.FloorFor(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), ThrottleFloor.FloorFor(2));
        Assert.Equal(TimeSpan.FromMilliseconds(51_200), ThrottleFloor.FloorFor(11));
        Assert.Equal(ThrottleFloor.Cap, ThrottleFloor.FloorFor(12));
        Assert.Equal(ThrottleFloor.Cap, ThrottleFloor.FloorFor(int.MaxValue));
    }

    [Fact]
    public void Throttled_CountsOneStepPerEvent_NotPerTryRefused()
    {
        var floor = new ThrottleFloor();

        // Three tries admitted at 10, 11, 12 are refused together at 20: one event.
        Assert.Equal(ThrottleFloor.Base, floor.Throttled(admittedAt: 10, now: 20));
        Assert.Equal(ThrottleFloor.Base, floor.Throttled(admittedAt: 11, now: 21));
        Assert.Equal(ThrottleFloor.Base, floor.Throttled(admittedAt: 12, now: 22));
        Assert.Equal(1, floor.Streak);

        // A try admitted after that refusal and refused again is a further one.
        Assert.Equal(ThrottleFloor.Base * 2, floor.Throttled(admittedAt: 30, now: 40));
        Assert.Equal(2, floor.Streak);

        floor.Succeeded();
        Assert.Equal(0, floor.Streak);
        Assert.Equal(ThrottleFloor.Base, floor.Throttled(admittedAt: 50, now: 60));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5_000)]
    public async Task RunAsync_WhenEvery429StatesNoWait_PausesAtLeastTheDoublingFloor(int retryAfterMs)
    {
        using var h = new DispatchHarness();
        // Bounded: if the floor did not hold, the job would spin through these at one instant and end Permanent.
        var steps = Enumerable.Repeat(Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromMilliseconds(retryAfterMs))), 100)
            .Append(Step.Returns(AttemptOutcome.Permanent<string>("spun")))
            .ToArray();
        h.Upstream.Script("A", steps);
        using var stop = new CancellationTokenSource();
        var run = h.Run("A", cancellationToken: stop.Token);

        await h.Driver.RunUntilAsync(Task.Run(async () =>
        {
            await TestWait.Eventually(() => h.Upstream.CallsFor("A").Count >= 7 || run.IsCompleted, "seven tries");
        }), Step10, TimeSpan.FromMinutes(5));
        await stop.CancelAsync();
        var result = await run.DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        var calls = h.Upstream.CallsFor("A");
        for (int i = 1; i < 7; i++)
        {
            var gap = calls[i].At - calls[i - 1].At;
            Assert.True(gap >= ThrottleFloor.FloorFor(i), $"try {i + 1} came {gap.TotalMilliseconds} ms after try {i}, under the floor {ThrottleFloor.FloorFor(i).TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task RunAsync_WhenEvery429StatesNoWait_TheDeadlineHolds_AndTheTriesStayFew()
    {
        using var h = new DispatchHarness(configure: o => o.JobDeadline = TimeSpan.FromSeconds(2));
        var steps = Enumerable.Repeat(Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.Zero)), 100)
            .Append(Step.Returns(AttemptOutcome.Permanent<string>("spun")))
            .ToArray();
        h.Upstream.Script("A", steps);

        var result = await h.Driver.RunUntilAsync(h.Run("A"), Step10, TimeSpan.FromMinutes(1));

        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        // The deadline ends it, not a seventh try: the fake-clock driver steps on while a busy machine has not yet run the
        // continuation that ends the run (2.14 s seen in CI), so the bound is where the next try would have gone.
        Assert.InRange(result.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(3150));
        Assert.Contains("while it waited", result.Error, StringComparison.Ordinal);
        // 0, 50, 150, 350, 750 and 1550 ms; the next would be at 3150 ms, past the deadline.
        Assert.Equal(6, h.Upstream.CallsFor("A").Count);
        Assert.Equal(6, result.Throttles);
    }

    [Fact]
    public async Task RunAsync_ASuccessResetsTheFloor()
    {
        using var h = new DispatchHarness();
        var zero = Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.Zero));
        h.Upstream.Script("A", zero, zero, zero, Step.Returns(AttemptOutcome.Success("ok")));
        h.Upstream.Script("B", zero, Step.Returns(AttemptOutcome.Success("ok")));
        Assert.True((await h.Driver.RunUntilAsync(h.Run("A"), Step10, TimeSpan.FromMinutes(1))).IsSuccess);
        var start = h.Now;

        var b = h.Run("B");
        await TestWait.Eventually(() => h.Snapshot().PausedUntil is not null && h.Snapshot().PausedUntil > start, "B's 429 paused the partition");

        Assert.Equal(start + ThrottleFloor.Base, h.Snapshot().PausedUntil);
        Assert.True((await h.Driver.RunUntilAsync(b, Step10, TimeSpan.FromMinutes(1))).IsSuccess);
    }

    [Fact]
    public async Task RunAsync_ABurstRefusedTogether_RaisesTheFloorOneStep()
    {
        using var h = new DispatchHarness(new PartitionLimits { MaxConcurrency = 4 });
        var held = Enumerable.Range(0, 4).Select(_ => Step.Hold()).ToArray();
        var runs = new List<Task<JobResult<string>>>();
        for (int i = 0; i < 4; i++)
        {
            h.Upstream.Script($"J{i}", held[i], Step.Returns(AttemptOutcome.Success("ok")));
            runs.Add(h.Run($"J{i}"));
        }

        await Task.WhenAll(held.Select(s => s.WhenStarted)).DefaultTimeout();
        var refusedAt = h.Now;
        foreach (var step in held)
        {
            step.Complete(AttemptOutcome.Throttled<string>(TimeSpan.Zero));
        }

        await h.SettleAsync();

        Assert.Equal(refusedAt + ThrottleFloor.Base, h.Snapshot().PausedUntil);
        await h.Driver.RunUntilAsync(Task.WhenAll(runs), Step10, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task RunAsync_AStatedWaitLongerThanTheFloor_IsKeptAsStated()
    {
        using var h = new DispatchHarness();
        h.Upstream.Script("A", Step.Returns(AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(3))), Step.Returns(AttemptOutcome.Success("ok")));
        var start = h.Now;

        var a = h.Run("A");
        await TestWait.Eventually(() => h.Snapshot().PausedUntil is not null, "the partition paused");

        Assert.Equal(start + TimeSpan.FromSeconds(3), h.Snapshot().PausedUntil);
        await h.Driver.RunUntilAsync(a, Step10, TimeSpan.FromMinutes(1));
    }
}
