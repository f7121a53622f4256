namespace Sluice.Cache;

/// <summary>Where a <see cref="SqliteResponseCache"/> keeps its answers, and how much of them.</summary>
public sealed class SqliteResponseCacheOptions
{
    /// <summary>The cache's file; created (with its folder) when missing. Several processes may share one file.</summary>
    public required string Path { get; init; }

    /// <summary>
    /// The most bytes the entries may take, counted as their stored (compressed) size plus a fixed overhead for the row
    /// and its index, which is close to what they take on disk. After a store passes it, the least recently used
    /// entries are evicted down to 90% of it.
    /// </summary>
    /// <value>1 GiB.</value>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>How long an answer is served: an older entry is a miss, and is deleted.</summary>
    /// <value>30 days.</value>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(30);
}
