using StackExchange.Redis;

namespace Sluice.Redis.Batch;

/// <summary>
/// The keys of one batch, all under <c>PREFIX:batch:{NAME}:</c>: the name in braces is a Redis Cluster hash tag, so
/// every key of a batch is on one node and a script may touch several.
/// </summary>
internal sealed class RedisBatchKeys(string prefix, string name)
{
    /// <summary>The consumer group every worker of a batch belongs to.</summary>
    public const string Group = "workers";

    private readonly string _root = $"{prefix}:batch:{{{name}}}:";

    /// <summary>A hash: <c>sha256</c> (the input's fingerprint, set by the first worker), <c>total</c> (set once loaded), <c>failed</c>.</summary>
    public RedisKey Meta => _root + "meta";

    /// <summary>The stream of lines, entry <c>N-0</c> for the batch's N-th line, fields <c>n</c> (line number), <c>id</c>, <c>p</c> (payload).</summary>
    public RedisKey Lines => _root + "lines";

    /// <summary>A hash from line id to result, <c>S</c> or <c>F</c> (succeeded, failed) before the result's text.</summary>
    public RedisKey Results => _root + "results";

    /// <summary>A string: the worker loading the lines, with a time to live it renews while loading.</summary>
    public RedisKey Loader => _root + "loader";

    public RedisKey[] All => [Meta, Lines, Results, Loader];
}
