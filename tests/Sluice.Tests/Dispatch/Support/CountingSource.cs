namespace Sluice.Tests.Dispatch.Support;

/// <summary>
/// An instrumented input for the streaming dispatcher: counts the items taken from it, calls <see cref="OnTake"/>
/// as each is taken (to check a bound at that instant), and answers asynchronously like a file or a channel would.
/// Honours its cancellation token.
/// </summary>
internal sealed class CountingSource<T>(IEnumerable<T> items) : IAsyncEnumerable<T>
{
    private int _taken;

    public int Taken => Volatile.Read(ref _taken);

    /// <summary>Called with the running count as each item is taken, before it is handed over.</summary>
    public Action<int>? OnTake { get; init; }

    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            int taken = Interlocked.Increment(ref _taken);
            OnTake?.Invoke(taken);
            yield return item;
        }
    }
}
