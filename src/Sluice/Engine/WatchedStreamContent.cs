using System.Net;
using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// A streamed response body passed through as it arrives, holding the request's concurrency slot until the body
/// ends or the caller lets it go. On the way it reads the usage the provider reports (settling the token
/// reservation) and watches for the stream's terminator: a stream that ends without one is an error to the caller,
/// never a silent truncation.
/// </summary>
internal sealed class WatchedStreamContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly StreamWatch _watch;

    public WatchedStreamContent(HttpContent inner, GateLease lease, ProviderProfile profile, Action<TokenUsage, bool>? ended = null)
    {
        _inner = inner;
        _watch = new StreamWatch(lease, profile, ended);
        ContentHeaders.Copy(inner.Headers, Headers);
    }

    /// <summary>Copies the body, as it is read, to the response cache; set before anyone reads it.</summary>
    internal void TeeTo(StreamTee tee) => _watch.Tee = tee;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
        }
    }

    // Synchronous readers (HttpContent.ReadAsStream, a synchronous Send) get the same watched stream; without these
    // overrides HttpContent refuses them with NotSupportedException.
    protected override void SerializeToStream(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        using var body = CreateContentReadStream(cancellationToken);
        body.CopyTo(stream);
    }

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
        new WatchedStream(_inner.ReadAsStream(cancellationToken), _watch);

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        new WatchedStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _watch);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The caller let the response go, read or not: free the slot.
            _watch.Finish();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
