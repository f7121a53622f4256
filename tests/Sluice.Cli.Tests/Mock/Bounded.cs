namespace Sluice.Cli.Tests.Mock;

/// <summary>Every await in the command's tests is bounded, so a bug shows up as a failure, never as a hung run.</summary>
internal static class Bounded
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task Within(this Task task) => task.WaitAsync(Timeout);
}
