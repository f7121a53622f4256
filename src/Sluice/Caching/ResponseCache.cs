namespace Sluice.Caching;

/// <summary>
/// Where answers already paid for are kept, under the <see cref="CacheKey"/> of the request that asked for them, so
/// that the same request is answered again without being sent. A cache never fails a request: an implementation
/// answers a miss, and stores nothing, rather than throw for a fault of its own.
/// </summary>
/// <remarks>
/// Set one on <see cref="Engine.SluiceSendOptions.Cache"/> and the engine looks every request up before it waits at the
/// gate, and stores a 2xx answer once it is complete and valid. Implementations are called from many threads at once.
/// </remarks>
public abstract class ResponseCache : IDisposable
{
    /// <summary>What the cache has done and holds.</summary>
    public abstract ResponseCacheStatistics Statistics { get; }

    /// <summary>Finds the answer stored under a key.</summary>
    /// <param name="key">The request's key.</param>
    /// <param name="cancellationToken">Gives up the lookup.</param>
    /// <returns>The answer, or <see langword="null"/> for a miss (absent, expired, corrupt, or the cache disabled).</returns>
    public abstract ValueTask<CachedAnswer?> TryGetAsync(CacheKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores an answer under a key, replacing any entry there, atomically: a reader sees the whole entry or none of
    /// it, whatever happens to the process meanwhile.
    /// </summary>
    /// <param name="key">The request's key.</param>
    /// <param name="answer">The complete answer.</param>
    /// <param name="cancellationToken">Gives up waiting for the store; it may still happen.</param>
    /// <returns>A task that completes once the entry is stored (or was refused).</returns>
    public abstract ValueTask StoreAsync(CacheKey key, CachedAnswer answer, CancellationToken cancellationToken = default);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Lets go of the cache's resources.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }
}
