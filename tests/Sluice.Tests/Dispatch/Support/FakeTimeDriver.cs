using Microsoft.Extensions.Time.Testing;

namespace Sluice.Tests.Dispatch.Support;

/// <summary>
/// Drives a <see cref="FakeTimeProvider"/> for code whose continuations run on the thread pool. Between steps it
/// waits until the system under test is quiet: the pool has no queued work, and the caller's own
/// <c>isQuiet</c> check holds (for the dispatcher: every admitted lease is inside its attempt, so whatever an
/// attempt records about "now" is the instant it was admitted, give or take the one step the driver may already
/// have decided on). Every wait is bounded in real time, so a stuck dispatcher ends in a
/// <see cref="TimeoutException"/> saying where virtual time stood and what the system looked like.
/// </summary>
/// <remarks>
/// The pool's queue shows work waiting, not work running: a worker preempted in the middle of a continuation is
/// invisible, and the clock may run ahead of it. That is harmless for properties about budgets and exactly-once
/// endings, which hold at any pace; tests that need an exact instant wait for a condition and then step the clock
/// to that instant themselves, and virtual-time limits here are generous on purpose (real time is the bound).
/// </remarks>
internal sealed class FakeTimeDriver(FakeTimeProvider time, Func<bool>? isQuiet = null, Func<string>? describe = null)
{
    // Consecutive quiet checks before the system counts as settled: a continuation that has just been taken off the
    // queue is running, not pending, so one empty look is not enough.
    private const int QuietChecksNeeded = 4;

    // The pool is shared with other test classes running in parallel; its queue is a hint, not a condition we can
    // insist on. After this many looks we go on, relying on isQuiet for exactness.
    private const int PoolPatience = 2_000;

    public FakeTimeProvider Time { get; } = time;

    /// <summary>Waits until background work has run as far as it can without the clock moving.</summary>
    public async Task SettleAsync()
    {
        long started = TimeProvider.System.GetTimestamp();
        int quietInARow = 0;
        for (int round = 1; ; round++)
        {
            bool poolQuiet = ThreadPool.PendingWorkItemCount == 0 || round > PoolPatience;
            bool systemQuiet = isQuiet?.Invoke() ?? true;
            quietInARow = poolQuiet && systemQuiet ? quietInARow + 1 : 0;
            if (quietInARow >= QuietChecksNeeded)
            {
                return;
            }

            if (TimeProvider.System.GetElapsedTime(started) > TestWait.Limit)
            {
                throw new TimeoutException(
                    $"The system did not settle within {TestWait.Limit.TotalSeconds:0} s of real time at virtual {Time.GetUtcNow():HH:mm:ss.fff}. {describe?.Invoke()}");
            }

            await TestWait.YieldAsync(round);
        }
    }

    /// <summary>Lets pending work run, advances by <paramref name="delta"/>, and lets the consequences run.</summary>
    public async Task AdvanceAsync(TimeSpan delta)
    {
        await SettleAsync();
        Time.AdvanceInline(delta);
        await SettleAsync();
    }

    /// <summary>
    /// Advances the clock in steps of <paramref name="step"/>, settling between steps, until <paramref name="task"/>
    /// completes; fails when it has not after <paramref name="virtualLimit"/> of virtual time or
    /// <see cref="TestWait.Limit"/> of real time.
    /// </summary>
    public async Task RunUntilAsync(Task task, TimeSpan step, TimeSpan virtualLimit)
    {
        long started = TimeProvider.System.GetTimestamp();
        var virtualStart = Time.GetUtcNow();
        while (true)
        {
            await SettleAsync();
            if (task.IsCompleted)
            {
                await task;
                return;
            }

            if (Time.GetUtcNow() - virtualStart >= virtualLimit)
            {
                throw new TimeoutException($"Still running after {virtualLimit} of virtual time. {describe?.Invoke()}");
            }

            if (TimeProvider.System.GetElapsedTime(started) > TestWait.Limit)
            {
                throw new TimeoutException(
                    $"Still running after {TestWait.Limit.TotalSeconds:0} s of real time, at {Time.GetUtcNow() - virtualStart} of virtual time. {describe?.Invoke()}");
            }

            Time.AdvanceInline(step);
        }
    }

    /// <inheritdoc cref="RunUntilAsync(Task, TimeSpan, TimeSpan)"/>
    public async Task<T> RunUntilAsync<T>(Task<T> task, TimeSpan step, TimeSpan virtualLimit)
    {
        await RunUntilAsync((Task)task, step, virtualLimit);
        return await task;
    }
}
