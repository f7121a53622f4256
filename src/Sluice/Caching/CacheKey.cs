using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Sluice.Providers;

namespace Sluice.Caching;

/// <summary>
/// The address of a cached answer: SHA-256 over the provider, the endpoint's path and the request body in canonical
/// form, so that two requests that ask the same thing share one entry however their JSON was written.
/// </summary>
/// <remarks>
/// The body's canonical form (<see cref="CanonicalJson"/>) sorts object keys, drops whitespace, keeps numbers as written
/// (<c>1</c> and <c>1.0</c> stay different: a provider may read them differently) and leaves out the top-level fields
/// that never change an answer: <c>user</c>, <c>metadata</c>, <c>store</c>, <c>safety_identifier</c>,
/// <c>prompt_cache_key</c> and <c>service_tier</c>. A body that is not JSON is hashed as its bytes. Nothing else is
/// part of the key: not the credential, not the headers, not the upstream's host.
/// </remarks>
public readonly record struct CacheKey
{
    /// <summary>The length of a key's hash in bytes.</summary>
    public const int Length = 32;

    // Four words rather than an array: a key is a value, compared and hashed without allocating.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly ulong _c;
    private readonly ulong _d;

    private CacheKey(ReadOnlySpan<byte> hash)
    {
        _a = BinaryPrimitives.ReadUInt64BigEndian(hash);
        _b = BinaryPrimitives.ReadUInt64BigEndian(hash[8..]);
        _c = BinaryPrimitives.ReadUInt64BigEndian(hash[16..]);
        _d = BinaryPrimitives.ReadUInt64BigEndian(hash[24..]);
    }

    /// <summary>The hash as 64 lowercase hex digits, for logs and tests.</summary>
    public string Text
    {
        get
        {
            Span<byte> bytes = stackalloc byte[Length];
            CopyTo(bytes);
            return Convert.ToHexStringLower(bytes);
        }
    }

    /// <summary>The key of a request.</summary>
    /// <param name="provider">The provider whose conventions the request follows.</param>
    /// <param name="endpoint">The endpoint's path, such as <c>/v1/chat/completions</c>.</param>
    /// <param name="body">The request body as sent.</param>
    /// <returns>The key.</returns>
    public static CacheKey For(ProviderKind provider, string endpoint, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var buffer = CanonicalJson.RentBuffer();
        try
        {
            // A domain prefix keeps every field apart: no provider, path and body can spell another's.
            buffer.Write("sluice-cache-key/1\n"u8);
            WriteUtf8(buffer, provider.ToString());
            buffer.Write("\n"u8);
            WriteUtf8(buffer, endpoint);
            if (JsonBody.TryParse(body, out var document))
            {
                using (document)
                {
                    buffer.Write("\njson\n"u8);
                    CanonicalJson.Write(document.RootElement, buffer, dropIgnoredFields: true);
                }
            }
            else
            {
                buffer.Write("\nbytes\n"u8);
                buffer.Write(body);
            }

            Span<byte> hash = stackalloc byte[Length];
            SHA256.HashData(buffer.WrittenSpan, hash);
            return new CacheKey(hash);
        }
        finally
        {
            CanonicalJson.ReturnBuffer(buffer);
        }
    }

    /// <summary>Writes the hash's 32 bytes, for a store that keys entries by them.</summary>
    /// <param name="destination">At least <see cref="Length"/> bytes.</param>
    public void CopyTo(Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length, nameof(destination));
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt64BigEndian(destination[16..], _c);
        BinaryPrimitives.WriteUInt64BigEndian(destination[24..], _d);
    }

    /// <summary>The hash in hex, as <see cref="Text"/>.</summary>
    /// <returns>64 lowercase hex digits.</returns>
    public override string ToString() => Text;

    private static void WriteUtf8(ArrayBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        buffer.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
