using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Tests.Engine;

/// <summary>
/// A streamed body passed through as it arrives: every way it can end (read to the end, synchronously or not, copied,
/// cut, failed, let go unread) frees its slot once, and the usage it reports is settled however its lines are split.
/// </summary>
public sealed class WatchedStreamTests : IDisposable
{
    private const string Events = "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n" +
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":70,\"total_tokens\":100}}\n\n" +
        "data: [DONE]\n\n";

    private readonly SluiceGate _gate = SluiceGate.Create(
        new GateOptions { DefaultLimits = new PartitionLimits { MaxConcurrency = 1, TokensPerWindow = 100_000 } },
        new FakeTimeProvider());

    private GatePartition Partition => _gate.GetPartition("p");

    public void Dispose() => _gate.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Observe_ALineSplitAcrossChunks_IsReadWhole_AndItsUsageSettled(int chunkSize)
    {
        // OpenAI settles at the larger of the reservation and the usage: reserve less than the 100 used.
        var lease = Lease(reserved: 10);
        var watch = new StreamWatch(lease, ProviderProfile.For(ProviderKind.OpenAI));
        byte[] body = Encoding.UTF8.GetBytes(Events);
        double before = Partition.GetSnapshot().TokensAvailable!.Value;

        for (int at = 0; at < body.Length; at += chunkSize)
        {
            watch.Observe(body.AsSpan(at, Math.Min(chunkSize, body.Length - at)));
        }

        watch.Finish();

        Assert.True(watch.SawTerminator);
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
        Assert.Equal(before - 90, Partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public void Finish_ReadsALastLineWithNoLineBreak_AndCarriageReturnsEndLines()
    {
        var lease = Lease(reserved: 10);
        var watch = new StreamWatch(lease, ProviderProfile.For(ProviderKind.OpenAI));
        double before = Partition.GetSnapshot().TokensAvailable!.Value;

        watch.Observe("data: [DONE]\r\n"u8);
        watch.Observe("data: {\"usage\":{\"total_tokens\":50}}"u8);
        watch.Finish();
        watch.Finish();

        Assert.True(watch.SawTerminator, "data: [DONE] followed by CR LF is the terminator");
        Assert.Equal(before - 40, Partition.GetSnapshot().TokensAvailable!.Value, precision: 6);
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Content_CopiedToTheEnd_PassesEveryByte_KeepsItsContentType_AndFreesTheSlot()
    {
        using var content = Watched(new StringContent(Events, Encoding.UTF8, "text/event-stream"));
        using var copy = new MemoryStream();

        Assert.Equal(1, Partition.GetSnapshot().InFlight);
        Assert.Equal("text/event-stream", content.Headers.ContentType!.MediaType);
        Assert.Null(content.Headers.ContentLength);
        await content.CopyToAsync(copy);

        Assert.Equal(Events, Encoding.UTF8.GetString(copy.ToArray()));
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void Stream_ReadSynchronouslyToTheEnd_FreesTheSlot_AndSaysWhatItIs()
    {
        using var content = Watched(new StringContent(Events));
        using var stream = content.ReadAsStream();
        var buffer = new byte[5];

        Assert.True(stream.CanRead);
        Assert.False(stream.CanSeek);
        Assert.False(stream.CanWrite);
        Assert.Throws<NotSupportedException>(() => stream.Length);
        Assert.Throws<NotSupportedException>(() => stream.Position);
        Assert.Throws<NotSupportedException>(() => stream.Position = 0);
        Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
        Assert.Throws<NotSupportedException>(() => stream.SetLength(0));
        Assert.Throws<NotSupportedException>(() => stream.Write(buffer, 0, 1));
        int total = 0, read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
        }

        Assert.Equal(Encoding.UTF8.GetByteCount(Events), total);
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public void Content_CopiedSynchronously_PassesEveryByte_AndFreesTheSlot()
    {
        using var content = Watched(new StringContent(Events));
        using var copy = new MemoryStream();

        content.CopyTo(copy, null, CancellationToken.None);

        Assert.Equal(Events, Encoding.UTF8.GetString(copy.ToArray()));
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Stream_EndingWithoutTheTerminator_IsAnError_AndStillFreesTheSlot()
    {
        using var content = Watched(new StringContent("data: {\"choices\":[]}\n\n"));
        using var stream = await content.ReadAsStreamAsync();

        var cut = await Assert.ThrowsAsync<IOException>(() => stream.CopyToAsync(Stream.Null));

        Assert.Contains("ended before the provider's end-of-stream marker", cut.Message, StringComparison.Ordinal);
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task Stream_WhoseReadsFail_FreesTheSlot_AndPassesTheFailureOn()
    {
        using var asynchronous = Watched(new StreamContent(new FailingStream()));
        using var body = await asynchronous.ReadAsStreamAsync();
        await Assert.ThrowsAsync<IOException>(async () => _ = await body.ReadAsync(new byte[8]));
        Assert.Equal(0, Partition.GetSnapshot().InFlight);

        using var synchronous = Watched(new StreamContent(new FailingStream()));
        using var syncBody = synchronous.ReadAsStream();
        Assert.Throws<IOException>(() => syncBody.Read(new byte[8], 0, 8));
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task LettingGo_ATheContentUnread_OrItsStreamHalfRead_FreesTheSlot_AndTheUpstreamBody()
    {
        var unreadInner = new TrackedContent(Events);
        var unread = Watched(unreadInner);
        unread.Dispose();
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
        Assert.True(unreadInner.Disposed, "the upstream body was kept");

        var halfReadInner = new TrackedStream(Encoding.UTF8.GetBytes(Events));
        using var halfRead = Watched(new StreamContent(halfReadInner));
        var stream = await halfRead.ReadAsStreamAsync();
        Assert.Equal(4, await stream.ReadAsync(new byte[4]));
        Assert.Equal(1, Partition.GetSnapshot().InFlight);
        await stream.DisposeAsync();
        Assert.Equal(0, Partition.GetSnapshot().InFlight);
        Assert.True(halfReadInner.Disposed, "the upstream stream was kept");
    }

    private GateLease Lease(long reserved)
    {
        var lease = Partition.TryAcquire(new AdmissionRequest(reserved, 0));
        Assert.True(lease.IsAdmitted);
        return lease;
    }

    private WatchedStreamContent Watched(HttpContent inner)
    {
        inner.Headers.ContentType ??= new MediaTypeHeaderValue("text/event-stream");
        return new WatchedStreamContent(inner, Lease(reserved: 10), ProviderProfile.For(ProviderKind.OpenAI));
    }

    private sealed class FailingStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("reset");

        public override int Read(Span<byte> buffer) => throw new IOException("reset");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<int>(new IOException("reset"));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Task.FromException<int>(new IOException("reset"));
    }

    private sealed class TrackedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private sealed class TrackedContent(string text) : StringContent(text)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
