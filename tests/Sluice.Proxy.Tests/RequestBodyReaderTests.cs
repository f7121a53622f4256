using CsCheck;

namespace Sluice.Proxy.Tests;

/// <summary>Issue 14, finding 3: memory for a request body grows as its bytes arrive, never for what a client declares.</summary>
public sealed class RequestBodyReaderTests
{
    [Fact]
    public async Task DeclaredLength_IsNotReserved_BeforeTheBytesArrive()
    {
        // A client declares 64 MiB and sends one byte (the stream then ends as if the client stalled and left).
        var buffers = new BufferedBytes(long.MaxValue);
        using var held = buffers.Open();
        using var oneByte = new MemoryStream([42]);
        long before = GC.GetAllocatedBytesForCurrentThread();

        // A MemoryStream completes every read synchronously, so everything the reader allocates is on this thread.
        var (outcome, body) = await RequestBodyReader.ReadAsync(oneByte, declared: 64L * 1024 * 1024, maxBytes: 128L * 1024 * 1024, held, CancellationToken.None);

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(BodyReadOutcome.Read, outcome);
        Assert.Equal([42], body);
        Assert.True(allocated < 256 * 1024, $"reading one byte allocated {allocated} bytes");
        Assert.True(held.Held < 8 * 1024, $"one byte holds {held.Held} bytes of the bound");
    }

    [Fact]
    public async Task DeclaredLengthBeyondAnInt_DoesNotOverflow()
    {
        var buffers = new BufferedBytes(long.MaxValue);
        using var held = buffers.Open();
        using var small = new MemoryStream(new byte[100]);

        var (outcome, body) = await RequestBodyReader.ReadAsync(small, declared: 3L * 1024 * 1024 * 1024, maxBytes: Array.MaxLength, held, CancellationToken.None);

        Assert.Equal(BodyReadOutcome.Read, outcome);
        Assert.Equal(100, body!.Length);
    }

    [Fact]
    public void AnyBody_InAnyChunking_IsReadWhole_AndHoldsAtMostTwiceItsSize() =>
        Gen.Select(Gen.Int[0, 3_000_000], Gen.Int[1, 70_000], Gen.Bool, Gen.Int[0, 1000]).Sample((size, chunk, declare, seed) =>
        {
            byte[] data = new byte[size];
            new Random(seed).NextBytes(data);
            var buffers = new BufferedBytes(long.MaxValue);
            (BodyReadOutcome Outcome, byte[]? Body) result;
            using (var held = buffers.Open())
            {
                result = RequestBodyReader.ReadAsync(new Trickle(data, chunk), declare ? size : null, maxBytes: 4_000_000, held, CancellationToken.None).GetAwaiter().GetResult();
                Assert.True(held.Held <= (2L * size) + 8192, $"{size} bytes hold {held.Held}");
            }

            Assert.Equal(BodyReadOutcome.Read, result.Outcome);
            Assert.Equal(data, result.Body);
            Assert.Equal(0, buffers.Held);
        }, iter: 60);

    [Fact]
    public void AnyBodyUpToTheLimit_FitsABoundOfTwiceTheLimit_WhenNothingElseIsHeld() =>
        Gen.Select(Gen.Int[1, 300_000], Gen.Int[1, 70_000], Gen.Bool).Sample((max, chunk, declare) =>
        {
            // The peak is the pieces plus the joined array; the pieces never add up past the limit.
            var buffers = new BufferedBytes(2L * max);
            using var held = buffers.Open();

            var (outcome, body) = RequestBodyReader.ReadAsync(new Trickle(new byte[max], chunk), declare ? max : null, max, held, CancellationToken.None).GetAwaiter().GetResult();

            Assert.Equal(BodyReadOutcome.Read, outcome);
            Assert.Equal(max, body!.Length);
        }, iter: 300);

    [Fact]
    public async Task BodyLongerThanTheLimit_IsTooLarge_EvenUndeclared()
    {
        var buffers = new BufferedBytes(long.MaxValue);
        using var held = buffers.Open();

        var (outcome, body) = await RequestBodyReader.ReadAsync(new Trickle(new byte[10_001], 3000), declared: null, maxBytes: 10_000, held, CancellationToken.None);

        Assert.Equal(BodyReadOutcome.TooLarge, outcome);
        Assert.Null(body);
    }

    [Fact]
    public async Task BodyLongerThanTheBound_IsOverBudget_AndGivesEverythingBack()
    {
        var buffers = new BufferedBytes(50_000);
        Assert.True(buffers.TryTake(20_000)); // another client's body
        (BodyReadOutcome Outcome, byte[]? Body) result;
        using (var held = buffers.Open())
        {
            result = await RequestBodyReader.ReadAsync(new Trickle(new byte[40_000], 5000), declared: 40_000, maxBytes: 1_000_000, held, CancellationToken.None);
        }

        Assert.Equal(BodyReadOutcome.OverBudget, result.Outcome);
        Assert.Equal(20_000, buffers.Held);
    }

    [Fact]
    public void BufferedBytes_NeverGoesOverItsBound_UnderContention()
    {
        var buffers = new BufferedBytes(1000);
        long taken = 0;
        Parallel.For(0, 10_000, _ =>
        {
            if (buffers.TryTake(7))
            {
                Interlocked.Add(ref taken, 7);
            }
        });

        Assert.Equal(994, taken);
        Assert.Equal(994, buffers.Held);
    }

    /// <summary>A body that arrives at most <c>chunk</c> bytes a read, as a slow client sends it.</summary>
    private sealed class Trickle(byte[] data, int chunk) : Stream
    {
        private int _at;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _at; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(Math.Min(count, chunk), data.Length - _at);
            data.AsSpan(_at, n).CopyTo(buffer.AsSpan(offset));
            _at += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(Math.Min(buffer.Length, chunk), data.Length - _at);
            data.AsMemory(_at, n).CopyTo(buffer);
            _at += n;
            return ValueTask.FromResult(n);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
