namespace Sluice.Caching;

/// <summary>What a <see cref="ResponseCache"/> has done since it was opened, and what it holds.</summary>
public sealed record ResponseCacheStatistics
{
    /// <summary>Lookups answered from the cache.</summary>
    public long Hits { get; init; }

    /// <summary>Lookups that found nothing usable (absent, too old, corrupt, or the cache disabled).</summary>
    public long Misses { get; init; }

    /// <summary>Answers stored.</summary>
    public long Stores { get; init; }

    /// <summary>Entries held now, as far as this process knows.</summary>
    public long Entries { get; init; }

    /// <summary>Bytes the entries take, as the cache counts them against its size cap.</summary>
    public long Bytes { get; init; }

    /// <summary>
    /// Why the cache is disabled (a corrupted or foreign file, said once in the log), or <see langword="null"/> while it
    /// works. A disabled cache misses every lookup and stores nothing.
    /// </summary>
    public string? DisabledReason { get; init; }
}
