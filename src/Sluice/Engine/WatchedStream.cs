namespace Sluice.Engine;

/// <summary>A read-only pass-through over a streamed body that reports every chunk to a <see cref="StreamWatch"/>.</summary>
internal sealed class WatchedStream(Stream inner, StreamWatch watch) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = inner.Read(buffer);
        }
        catch
        {
            watch.Finish();
            throw;
        }

        int passed = After(buffer[..read]);
        if (passed == 0)
        {
            // A synchronous reader does not wait for the cache: the store finishes on its own (it never throws).
            LetRun(watch.EndedAsync());
        }

        return passed;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            watch.Finish();
            throw;
        }

        int passed = After(buffer.Span[..read]);
        if (passed == 0)
        {
            // Stored before the reader hears the end, so a request sent after it is answered from the cache.
            await watch.EndedAsync().ConfigureAwait(false);
        }

        return passed;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            watch.Finish();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static void LetRun(ValueTask storing)
    {
        if (!storing.IsCompleted)
        {
            _ = storing.AsTask();
        }
    }

    private int After(ReadOnlySpan<byte> chunk)
    {
        if (!chunk.IsEmpty)
        {
            watch.Observe(chunk);
            return chunk.Length;
        }

        // The end of the body: release the slot, and refuse to pass a cut stream off as a whole one.
        watch.Finish();
        if (!watch.SawTerminator)
        {
            throw new IOException("The response stream ended before the provider's end-of-stream marker: the answer is incomplete.");
        }

        return 0;
    }
}
