using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Cache;

/// <summary>
/// An entry as it lies in the file: one blob holding a small header (status, content type, usage, cost, when it was
/// stored, the body's length) and the body compressed with Brotli at its fastest quality, and a 64-bit XxHash3 of the
/// whole blob beside it. A blob whose hash, header or compressed body does not check out is damaged, never served.
/// </summary>
internal static class EntryCodec
{
    private const byte Version = 1;

    // Quality 1 is Brotli's fastest; a 64 KiB window is plenty for answers of a few kilobytes and keeps the coder small.
    private const int Quality = 1;
    private const int Window = 16;

    [Flags]
    private enum Fields : byte
    {
        None = 0,
        Stream = 1,
        Total = 2,
        Input = 4,
        Output = 8,
        Cost = 16,
        ContentType = 32,
    }

    /// <summary>Encodes an answer.</summary>
    /// <returns>The blob and its checksum.</returns>
    public static (byte[] Blob, long Checksum) Encode(CachedAnswer answer)
    {
        var fields = Fields.None;
        fields |= answer.IsStream ? Fields.Stream : 0;
        fields |= answer.Usage.Total is not null ? Fields.Total : 0;
        fields |= answer.Usage.Input is not null ? Fields.Input : 0;
        fields |= answer.Usage.Output is not null ? Fields.Output : 0;
        fields |= answer.Cost is not null ? Fields.Cost : 0;
        fields |= answer.ContentType is not null ? Fields.ContentType : 0;
        int contentTypeLength = answer.ContentType is { } type ? Encoding.UTF8.GetByteCount(type) : 0;
        if (contentTypeLength > ushort.MaxValue)
        {
            throw new ArgumentException("The content type is too long to store.", nameof(answer));
        }

        var body = answer.Body.Span;
        int headerLength = 1 + 1 + 4 + 4 + 8 + (3 * 8) + 16 + 2 + contentTypeLength;
        byte[] rented = ArrayPool<byte>.Shared.Rent(headerLength + BrotliEncoder.GetMaxCompressedLength(body.Length));
        try
        {
            var span = rented.AsSpan();
            int at = 0;
            span[at++] = Version;
            span[at++] = (byte)fields;
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], answer.StatusCode);
            at += 4;
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], body.Length);
            at += 4;
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], answer.StoredAt.ToUnixTimeMilliseconds());
            at += 8;
            at += WriteOptional(span[at..], answer.Usage.Total);
            at += WriteOptional(span[at..], answer.Usage.Input);
            at += WriteOptional(span[at..], answer.Usage.Output);
            if (answer.Cost is { } cost)
            {
                Span<int> bits = stackalloc int[4];
                decimal.GetBits(cost, bits);
                foreach (int part in bits)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(span[at..], part);
                    at += 4;
                }
            }

            BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)contentTypeLength);
            at += 2;
            if (answer.ContentType is { } contentType)
            {
                at += Encoding.UTF8.GetBytes(contentType, span[at..]);
            }

            if (!BrotliEncoder.TryCompress(body, span[at..], out int compressed, Quality, Window))
            {
                throw new InvalidOperationException("Brotli could not compress an answer into its own bound.");
            }

            at += compressed;
            byte[] blob = span[..at].ToArray();
            return (blob, unchecked((long)XxHash3.HashToUInt64(blob)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes a blob read back, checking it first.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="checksum">The checksum stored beside it.</param>
    /// <param name="answer">The answer, when the blob is whole.</param>
    /// <param name="damage">What is wrong with it otherwise, for the log (never its content).</param>
    public static bool TryDecode(ReadOnlySpan<byte> blob, long checksum, out CachedAnswer? answer, out string? damage)
    {
        answer = null;
        if (unchecked((long)XxHash3.HashToUInt64(blob)) != checksum)
        {
            damage = "its checksum does not match";
            return false;
        }

        try
        {
            answer = Decode(blob);
            damage = null;
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidDataException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            damage = "its content cannot be read";
            return false;
        }
    }

    private static CachedAnswer Decode(ReadOnlySpan<byte> blob)
    {
        int at = 0;
        if (blob[at++] != Version)
        {
            throw new InvalidDataException("Unknown entry version.");
        }

        var fields = (Fields)blob[at++];
        int status = BinaryPrimitives.ReadInt32LittleEndian(blob[at..]);
        at += 4;
        int length = BinaryPrimitives.ReadInt32LittleEndian(blob[at..]);
        at += 4;
        long storedAt = BinaryPrimitives.ReadInt64LittleEndian(blob[at..]);
        at += 8;
        long? total = ReadOptional(blob, ref at, fields.HasFlag(Fields.Total));
        long? input = ReadOptional(blob, ref at, fields.HasFlag(Fields.Input));
        long? output = ReadOptional(blob, ref at, fields.HasFlag(Fields.Output));
        decimal? cost = null;
        if (fields.HasFlag(Fields.Cost))
        {
            Span<int> bits = stackalloc int[4];
            for (int i = 0; i < 4; i++)
            {
                bits[i] = BinaryPrimitives.ReadInt32LittleEndian(blob[at..]);
                at += 4;
            }

            cost = new decimal(bits);
        }

        int contentTypeLength = BinaryPrimitives.ReadUInt16LittleEndian(blob[at..]);
        at += 2;
        string? contentType = fields.HasFlag(Fields.ContentType) ? Encoding.UTF8.GetString(blob.Slice(at, contentTypeLength)) : null;
        at += contentTypeLength;
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] body = new byte[length];
        if (!BrotliDecoder.TryDecompress(blob[at..], body, out int written) || written != length)
        {
            throw new InvalidDataException("The body does not decompress to its stated length.");
        }

        return new CachedAnswer
        {
            StatusCode = status,
            ContentType = contentType,
            Body = body,
            IsStream = fields.HasFlag(Fields.Stream),
            Usage = new TokenUsage(total, input, output),
            Cost = cost,
            StoredAt = DateTimeOffset.FromUnixTimeMilliseconds(storedAt),
        };
    }

    private static int WriteOptional(Span<byte> destination, long? value)
    {
        if (value is not { } present)
        {
            return 0;
        }

        BinaryPrimitives.WriteInt64LittleEndian(destination, present);
        return 8;
    }

    private static long? ReadOptional(ReadOnlySpan<byte> blob, ref int at, bool present)
    {
        if (!present)
        {
            return null;
        }

        long value = BinaryPrimitives.ReadInt64LittleEndian(blob[at..]);
        at += 8;
        return value;
    }
}
