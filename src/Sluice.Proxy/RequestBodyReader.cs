using System.Buffers;

namespace Sluice.Proxy;

/// <summary>What reading a request body came to.</summary>
internal enum BodyReadOutcome
{
    /// <summary>The whole body is read.</summary>
    Read,

    /// <summary>The body is longer than the largest accepted.</summary>
    TooLarge,

    /// <summary>Buffering it would take the proxy over its bound on buffered request bytes.</summary>
    OverBudget,
}

/// <summary>
/// Reads a request body into memory as its bytes arrive. Memory grows with what has arrived — segments of 4 KiB
/// doubling up to 1 MiB, never larger than what the declared length still promises — and is taken from the proxy-wide
/// <see cref="BufferedBytes"/> before it is allocated, so a client declaring 32 MB and sending one byte holds about
/// one byte. The segments are joined into one array of the exact length at the end (taken from the bound too).
/// Lengths are <see cref="long"/> throughout; the largest body is at most <see cref="Array.MaxLength"/>.
/// </summary>
internal static class RequestBodyReader
{
    private const int FirstSegment = 4 * 1024;
    private const int LargestSegment = 1024 * 1024;
    private const int ReadSize = 16 * 1024;

    /// <summary>Reads <paramref name="body"/> to its end.</summary>
    /// <param name="body">The request body stream.</param>
    /// <param name="declared">The declared Content-Length, if any: only a hint for segment sizes, never reserved.</param>
    /// <param name="maxBytes">The largest body accepted.</param>
    /// <param name="lease">The request's share of the proxy's buffered bytes; the body's bytes stay taken until it is disposed.</param>
    /// <param name="cancellationToken">The client's disconnect.</param>
    public static async Task<(BodyReadOutcome Outcome, byte[]? Body)> ReadAsync(
        Stream body, long? declared, long maxBytes, BufferedBytes.Lease lease, CancellationToken cancellationToken)
    {
        var segments = new List<byte[]>();
        byte[]? current = null;
        int filled = 0;
        long total = 0;
        byte[] chunk = ArrayPool<byte>.Shared.Rent(ReadSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk.AsMemory(0, ReadSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (read > maxBytes - total)
                {
                    return (BodyReadOutcome.TooLarge, null);
                }

                for (int offset = 0; offset < read;)
                {
                    if (current is null || filled == current.Length)
                    {
                        int size = NextSegment(total + offset, declared, maxBytes);
                        if (!lease.TryTake(size))
                        {
                            return (BodyReadOutcome.OverBudget, null);
                        }

                        current = new byte[size];
                        segments.Add(current);
                        filled = 0;
                    }

                    int copy = Math.Min(read - offset, current.Length - filled);
                    chunk.AsSpan(offset, copy).CopyTo(current.AsSpan(filled));
                    filled += copy;
                    offset += copy;
                }

                total += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (segments.Count == 1 && filled == segments[0].Length)
        {
            return (BodyReadOutcome.Read, segments[0]);
        }

        if (!lease.TryTake(total))
        {
            return (BodyReadOutcome.OverBudget, null);
        }

        byte[] whole = new byte[total];
        long at = 0;
        foreach (byte[] segment in segments)
        {
            int length = (int)Math.Min(segment.Length, total - at);
            segment.AsSpan(0, length).CopyTo(whole.AsSpan((int)at));
            at += length;
            lease.Return(segment.Length);
        }

        return (BodyReadOutcome.Read, whole);
    }

    /// <summary>The size of the next segment, with <paramref name="received"/> bytes already in hand (so at least one more fits under the maximum).</summary>
    private static int NextSegment(long received, long? declared, long maxBytes)
    {
        long size = Math.Clamp(received, FirstSegment, LargestSegment);
        if (declared is long length && length > received)
        {
            size = Math.Min(size, length - received);
        }

        return (int)Math.Max(1, Math.Min(size, maxBytes - received));
    }
}
