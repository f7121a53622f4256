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
}
