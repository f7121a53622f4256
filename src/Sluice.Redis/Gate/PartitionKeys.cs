using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// The Redis keys of one partition, all under one hash tag (<c>prefix:{tag}:…</c>) so every script touches a single
/// cluster slot. The tag is the partition key when it is plain text, otherwise a fingerprint of it (a key with braces
/// would break the hash tag).
/// </summary>
internal sealed class PartitionKeys
{
    public PartitionKeys(string prefix, string partitionKey)
    {
        string tag = partitionKey.AsSpan().IndexOfAny('{', '}') < 0 && partitionKey.Length <= 200
            ? partitionKey
            : "#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey)).AsSpan(0, 12));
        string root = prefix + ":{" + tag + "}:";
        All = [root + "state", root + "slots", root + "rpd", root + "tpd", root + "waiting", root + "wake"];
        Channel = RedisChannel.Literal(root + "wake");
    }

    /// <summary>The keys in the order gate.lua reads them: state, slots, per-day requests, per-day tokens, waiting, wake channel.</summary>
    public RedisKey[] All { get; }

    /// <summary>Where a release, a refund, a stop or a resume is announced to the other processes.</summary>
    public RedisChannel Channel { get; }

    /// <summary>The key of the members set of a prefix.</summary>
    public static RedisKey Members(string prefix) => prefix + ":members";
}
