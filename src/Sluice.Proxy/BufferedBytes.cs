namespace Sluice.Proxy;

/// <summary>
/// The one bound on request bodies held in memory across every client (<see cref="SluiceProxyOptions.MaxBufferedRequestBytes"/>):
/// a body is buffered so a retry can send it again, and is held until its answer has been relayed, queue wait
/// included. Memory is taken as bytes arrive, never for what a client merely declares, and given back when the request
/// ends. Lock-free; nothing here calls out.
/// </summary>
internal sealed class BufferedBytes(long limit)
{
    private long _held;

    /// <summary>The bound, in bytes.</summary>
    public long Limit => limit;

    /// <summary>Bytes held now, over every request.</summary>
    public long Held => Interlocked.Read(ref _held);

    /// <summary>Takes <paramref name="bytes"/> if they fit under the bound.</summary>
    public bool TryTake(long bytes)
    {
        long held = Interlocked.Read(ref _held);
        while (true)
        {
            if (bytes > limit - held)
            {
                return false;
            }

            long seen = Interlocked.CompareExchange(ref _held, held + bytes, held);
            if (seen == held)
            {
                return true;
            }

            held = seen;
        }
    }

    /// <summary>Gives back bytes taken with <see cref="TryTake"/>.</summary>
    public void Return(long bytes) => Interlocked.Add(ref _held, -bytes);

    /// <summary>One request's share: what it took, all given back when it is disposed.</summary>
    public Lease Open() => new(this);

    /// <summary>The bytes one request holds; not thread-safe (one request reads its body on one flow).</summary>
    internal sealed class Lease(BufferedBytes pool) : IDisposable
    {
        /// <summary>Bytes this request holds now.</summary>
        public long Held { get; private set; }

        public bool TryTake(long bytes)
        {
            if (!pool.TryTake(bytes))
            {
                return false;
            }

            Held += bytes;
            return true;
        }

        public void Return(long bytes)
        {
            pool.Return(bytes);
            Held -= bytes;
        }

        public void Dispose()
        {
            if (Held != 0)
            {
                pool.Return(Held);
                Held = 0;
            }
        }
    }
}
