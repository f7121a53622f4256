namespace Sluice.Cache;

/// <summary>Why a cache file cannot be used: foreign, of another schema, or damaged. Caught at open; never reaches a caller.</summary>
internal sealed class CacheUnusableException(string reason) : Exception(reason);
