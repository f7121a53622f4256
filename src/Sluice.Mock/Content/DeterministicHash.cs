namespace Sluice.Mock.Content;

/// <summary>
/// Stable hashing and pseudo-random streams for content made from input. <see cref="string.GetHashCode()"/> is
/// randomized per process, and content must be the same in every run.
/// </summary>
internal static class DeterministicHash
{
    /// <summary>FNV-1a over the UTF-16 code units of <paramref name="text"/>.</summary>
    public static ulong Of(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    /// <summary>SplitMix64: advances <paramref name="state"/> and returns the next well-mixed value.</summary>
    public static ulong Next(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
