using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

public sealed class RetryBudgetTests
{
    [Fact]
    public void WithdrawAsync_WhenBudgetFull_AllowsExactlyTheBurstAtOnce()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0, perSecond: 0.001, burst: 3), time);

        var withdrawals = Enumerable.Range(0, 4).Select(_ => budget.WithdrawAsync(CancellationToken.None).AsTask()).ToList();

        Assert.All(withdrawals.Take(3), w => Assert.True(w.IsCompletedSuccessfully));
        Assert.False(withdrawals[3].IsCompleted);
    }

    [Fact]
    public void Deposit_ForEachFirstAttempt_EarnsTheRatioOfARetry()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0.5, perSecond: 0.001, burst: 2), time);
        Assert.Equal(2, TakeAvailable(budget, 2));

        budget.Deposit();
        Assert.False(TryWithdrawNow(budget), "half a retry is not a retry");

        budget.Deposit();
        Assert.True(TryWithdrawNow(budget), "two first attempts at 0.5 earn one retry");

        budget.Deposit();
        budget.Deposit();
        budget.Deposit();
        Assert.Equal(1, TakeAvailable(budget, 10));
    }

    [Fact]
    public void Deposit_WhenBudgetFull_DoesNotRaiseItAboveTheBurst()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 1, perSecond: 0.001, burst: 2), time);

        for (int i = 0; i < 100; i++)
        {
            budget.Deposit();
        }

        Assert.Equal(2, TakeAvailable(budget, 10));
    }

    [Fact]
    public void WithdrawAsync_OverTime_TrickleRefillsAtTheFloorRate()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0, perSecond: 2, burst: 10), time);
        Assert.Equal(10, TakeAvailable(budget, 10));

        time.AdvanceInline(TimeSpan.FromSeconds(3));

        Assert.Equal(6, TakeAvailable(budget, 100));
    }

    [Fact]
    public async Task WithdrawAsync_WhenEmpty_WaitsExactlyTheComputedTime()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0.25, perSecond: 2, burst: 1), time);
        Assert.Equal(1, TakeAvailable(budget, 1));
        budget.Deposit();

        // 0.25 in the budget; 0.75 more at 2 a second takes exactly 375 ms.
        var withdrawal = budget.WithdrawAsync(CancellationToken.None).AsTask();
        time.AdvanceInline(TimeSpan.FromMilliseconds(374));
        await new FakeTimeDriver(time).SettleAsync();
        Assert.False(withdrawal.IsCompleted, "withdrawn before the budget held a whole retry");

        time.AdvanceInline(TimeSpan.FromMilliseconds(1));
        await withdrawal.DefaultTimeout();
    }

    [Fact]
    public async Task WithdrawAsync_WhenTheWaitIsNotWholeMilliseconds_CompletesWithoutSpinning()
    {
        // 0.9996 s to wait. Timers count whole milliseconds, so a wait cut to 999 ms wakes 0.6 ms early; the
        // remainder, too short for a timer, must not become a busy loop while the clock stands still.
        var time = new FakeTimeProvider();
        var start = time.GetUtcNow();
        var budget = new RetryBudget(Options(ratio: 0.0004, perSecond: 1, burst: 1), time);
        Assert.Equal(1, TakeAvailable(budget, 1));
        budget.Deposit();

        var withdrawal = budget.WithdrawAsync(CancellationToken.None).AsTask();

        // The clock moves on another thread, so a timer callback that spins fails this test instead of hanging it.
        var clock = Task.Run(() =>
        {
            while (!withdrawal.IsCompleted && time.GetUtcNow() - start < TimeSpan.FromSeconds(2))
            {
                time.Advance(TimeSpan.FromTicks(1_000));
            }
        });
        await clock.WaitAsync(TimeSpan.FromSeconds(10));
        await withdrawal.DefaultTimeout();
        Assert.InRange(time.GetUtcNow() - start, TimeSpan.FromTicks(9_996_000), TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task WithdrawAsync_WhenCancelled_StopsWaitingAndTakesNothing()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0, perSecond: 1, burst: 1), time);
        Assert.Equal(1, TakeAvailable(budget, 1));
        using var cts = new CancellationTokenSource();

        var withdrawal = budget.WithdrawAsync(cts.Token).AsTask();
        await cts.CancelAsync().DefaultTimeout();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => withdrawal.DefaultTimeout());
        time.AdvanceInline(TimeSpan.FromSeconds(1));
        Assert.True(TryWithdrawNow(budget), "the cancelled wait took the refilled retry");
    }

    [Fact]
    public async Task WithdrawAsync_OverALongRun_TakesNoMoreThanRatioTimesFirstAttemptsPlusFloorTimesTimePlusBurst()
    {
        // Random interleavings of first attempts, greedy retries and the passing of time, under random settings.
        var settings = Gen.Select(Gen.Double[0, 2], Gen.Double[0.01, 5], Gen.Int[1, 20]);
        var operations = Gen.Frequency(
            (3, Gen.Const((Kind: 0, Amount: 1))),
            (4, Gen.Const((Kind: 1, Amount: 1))),
            (3, Gen.Int[0, 3_000].Select(ms => (Kind: 2, Amount: ms)))).Array[1, 300];

        // Off the test framework's context, so withdrawals complete inline as the clock passes their instant; bounded,
        // so a withdrawal that spins fails the test instead of hanging it.
        await Task.Run(() => Gen.Select(settings, operations).Sample((setting, script) =>
        {
            var (ratio, perSecond, burst) = setting;
            var time = new FakeTimeProvider();
            var start = time.GetUtcNow();
            var budget = new RetryBudget(Options(ratio, perSecond, burst), time);
            var withdrawals = new List<Task>();
            int deposits = 0;

            void CheckBound(string when)
            {
                int taken = withdrawals.Count(w => w.IsCompletedSuccessfully);
                double seconds = (time.GetUtcNow() - start).TotalSeconds;
                double bound = (ratio * deposits) + (perSecond * seconds) + burst;
                Assert.True(taken <= bound + 1e-6, $"{when}: {taken} retries taken, bound {bound:0.###}");
            }

            foreach (var (kind, amount) in script)
            {
                switch (kind)
                {
                    case 0:
                        budget.Deposit();
                        deposits++;
                        break;
                    case 1:
                        withdrawals.Add(budget.WithdrawAsync(CancellationToken.None).AsTask());
                        break;
                    default:
                        time.Advance(TimeSpan.FromMilliseconds(amount));
                        break;
                }

                CheckBound("during the run");
            }

            // Every waiting retry is eventually served by the trickle alone: the budget delays, it never loses one.
            // In small steps: a timer that falls due inside one Advance fires at its end, so waiting out a long span
            // in one go would serve only the first of the waiting retries.
            int pending = withdrawals.Count(w => !w.IsCompleted);
            var step = TimeSpan.FromSeconds(0.05 / perSecond);
            var enough = time.GetUtcNow() + TimeSpan.FromSeconds(2 * (pending + 1) / perSecond);
            while (withdrawals.Any(w => !w.IsCompleted) && time.GetUtcNow() < enough)
            {
                time.Advance(step);
                CheckBound("waiting out the end");
            }

            Assert.All(withdrawals, w => Assert.True(w.IsCompletedSuccessfully));
        })).DefaultTimeout();
    }

    [Fact]
    public async Task WithdrawAsync_UnderSteadyFailures_TakesTheWholeBudgetAndNoMore()
    {
        // 100 s of traffic: a first attempt every 100 ms (1,000 in all), with retries always waiting for the budget.
        int taken = await Task.Run(SteadyFailures).DefaultTimeout();

        // ratio · first attempts + floor · time + burst = 200 + 100 + 10, less the 0.2 the first deposit found no
        // room for and whatever fraction of a retry is left at the end.
        Assert.InRange(taken, 308, 310);
    }

    private static int SteadyFailures()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0.2, perSecond: 1, burst: 10), time);
        var withdrawals = new List<Task>();
        for (int tick = 0; tick < 1_000; tick++)
        {
            budget.Deposit();
            while (withdrawals.Count(w => !w.IsCompleted) < 5)
            {
                withdrawals.Add(budget.WithdrawAsync(CancellationToken.None).AsTask());
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        return withdrawals.Count(w => w.IsCompletedSuccessfully);
    }

    private static DispatcherOptions Options(double ratio, double perSecond, int burst) => new()
    {
        RetryBudgetRatio = ratio,
        MinRetriesPerSecond = perSecond,
        RetryBudgetBurst = burst,
    };

    [Fact]
    public void TryWithdraw_TakesAWholeRetryOnlyWhenOneIsThereNow_RefilledFromTheClock()
    {
        // A hedge is worth starting only at once: TryWithdraw never waits, and never takes a part of a retry.
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0, perSecond: 2, burst: 2), time);
        Assert.True(budget.TryWithdraw());
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());

        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(budget.TryWithdraw());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(budget.TryWithdraw());
        Assert.False(budget.TryWithdraw());
    }

    [Fact]
    public void TryWithdraw_AndWithdrawAsync_DrawOnTheSameBudget()
    {
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(Options(ratio: 0, perSecond: 0.001, burst: 2), time);

        Assert.True(budget.TryWithdraw());
        Assert.True(TryWithdrawNow(budget));
        Assert.False(budget.TryWithdraw());
        Assert.False(TryWithdrawNow(budget));
    }

    /// <summary>Takes one retry if one is available now; a withdrawal that would wait is cancelled, so it takes nothing later.</summary>
    private static bool TryWithdrawNow(RetryBudget budget)
    {
        using var probe = new CancellationTokenSource();
        var withdrawal = budget.WithdrawAsync(probe.Token);
        if (withdrawal.IsCompleted)
        {
            return true;
        }

        probe.Cancel();
        return false;
    }

    /// <summary>Takes up to <paramref name="most"/> retries that are available now; returns how many it got.</summary>
    private static int TakeAvailable(RetryBudget budget, int most)
    {
        int taken = 0;
        while (taken < most && TryWithdrawNow(budget))
        {
            taken++;
        }

        return taken;
    }
}
