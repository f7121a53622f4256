namespace Sluice.Mock.Tests.Support;

/// <summary>Every await in these tests is bounded, so a bug shows up as a failure, never as a hung run.</summary>
internal static class Bounded
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task Within(this Task task) => task.WaitAsync(Timeout);

    public static Task Within(this ValueTask task) => task.AsTask().WaitAsync(Timeout);

    /// <summary>Waits until <paramref name="condition"/> holds, checking every few milliseconds, for at most the timeout.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            await Task.Delay(5, timeout.Token);
        }
    }

    /// <summary>
    /// Advances a fake clock in steps until <paramref name="task"/> completes. Stepping, rather than one jump,
    /// also wakes a delay the server had not yet started when the test first advanced.
    /// </summary>
    public static async Task<T> AdvanceUntilDoneAsync<T>(this Microsoft.Extensions.Time.Testing.FakeTimeProvider time, Task<T> task, TimeSpan step)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!task.IsCompleted)
        {
            time.Advance(step);
            await Task.WhenAny(task, Task.Delay(5, timeout.Token));
            timeout.Token.ThrowIfCancellationRequested();
        }

        return await task;
    }
}
