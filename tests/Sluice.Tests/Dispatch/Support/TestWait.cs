namespace Sluice.Tests.Dispatch.Support;

/// <summary>
/// Bounded real-time waits. Nothing here sleeps: awaits are guarded by a timeout so a broken dispatcher fails a
/// test with a clear message instead of hanging the run, and conditions are polled by yielding, not by delays.
/// </summary>
internal static class TestWait
{
    /// <summary>The longest any single wait in these tests may take in real time.</summary>
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Limit);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Limit);

    public static Task<T> DefaultTimeout<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Limit);

    /// <summary>Waits, without advancing any clock, until <paramref name="condition"/> holds; fails after <see cref="Limit"/>.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        long started = TimeProvider.System.GetTimestamp();
        int rounds = 0;
        while (!condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > Limit)
            {
                throw new TimeoutException($"Waited {Limit.TotalSeconds:0} s of real time for: {what}.");
            }

            await YieldAsync(++rounds);
        }
    }

    /// <summary>Gives other threads a chance to run: a yield, and after many a thread-level yield so pool threads get the CPU.</summary>
    public static async Task YieldAsync(int round)
    {
        if (round % 64 == 0)
        {
            Thread.Yield();
        }

        await Task.Yield();
    }
}
