namespace Sluice.Proxy;

/// <summary>
/// Counts the requests the proxy holds at once over every upstream and partition — from arrival to the end of the
/// answer — against <see cref="SluiceProxyOptions.MaxQueueTotal"/>: each partition's own queue is bounded, and this
/// bounds their sum, whatever the number of partitions.
/// </summary>
internal sealed class HeldRequests(int max)
{
    private int _held;

    /// <summary>Requests held now.</summary>
    public int Count => Volatile.Read(ref _held);

    /// <summary>Takes a place; false when the proxy already holds its limit.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _held) <= max)
        {
            return true;
        }

        Interlocked.Decrement(ref _held);
        return false;
    }

    /// <summary>Gives back a place taken by <see cref="TryEnter"/>.</summary>
    public void Exit() => Interlocked.Decrement(ref _held);
}
