using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Sluice.Proxy;

/// <summary>Writes a provider's answer to the proxy's client: headers filtered, a body whole, or a stream as it arrives.</summary>
internal static class ProxyRelay
{
    /// <summary>
    /// Sends the provider's answer to the client. A stream goes event by event: every chunk read is written and
    /// flushed at once, with no buffering. A stream the upstream cut short aborts the client's connection, so the
    /// client sees an incomplete answer as incomplete rather than as a clean end. When the proxy holds the key, an error
    /// body has key-like text taken out (<see cref="ProxyRedaction"/>). <paramref name="cacheHeader"/>, when set, is the
    /// proxy's own <c>x-sluice-cache</c> (<c>bypass</c>); a hit or miss is marked by the engine on the answer itself.
    /// </summary>
    public static async Task RelayAsync(HttpContext context, HttpResponseMessage answer, bool stream, UsageChunkFilter? filter, string? heldKey, string? cacheHeader = null)
    {
        var response = context.Response;
        var aborted = context.RequestAborted;
        response.StatusCode = (int)answer.StatusCode;
        ProxyHeaders.CopyResponseHeaders(answer, response.Headers);
        if (cacheHeader is not null)
        {
            response.Headers[ProxyCacheDirective.HeaderName] = cacheHeader;
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            // An answer to HEAD has headers only: its body is never read, whatever the request asked for.
            response.ContentLength = answer.Content.Headers.ContentLength;
            return;
        }

        if (!stream)
        {
            byte[] body;
            try
            {
                body = await answer.Content.ReadAsByteArrayAsync(aborted).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is IOException or HttpRequestException)
            {
                // The answer's body broke off (an upstream stream that ended early, a reset): as with a cut stream,
                // the client's connection is aborted so the client sees an incomplete answer as incomplete.
                context.Abort();
                return;
            }

            if (heldKey is not null && (int)answer.StatusCode >= 400)
            {
                body = ProxyRedaction.Redact(body, heldKey);
            }

            response.ContentLength = body.Length;
            await response.Body.WriteAsync(body, aborted).ConfigureAwait(false);
            return;
        }

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        byte[] chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var upstream = await answer.Content.ReadAsStreamAsync(aborted).ConfigureAwait(false);
            await using (upstream.ConfigureAwait(false))
            {
                await response.StartAsync(aborted).ConfigureAwait(false);
                int read;
                var filtered = filter is null ? null : new ArrayBufferWriter<byte>(chunk.Length);
                while ((read = await upstream.ReadAsync(chunk, aborted).ConfigureAwait(false)) > 0)
                {
                    if (filtered is null)
                    {
                        await response.Body.WriteAsync(chunk.AsMemory(0, read), aborted).ConfigureAwait(false);
                    }
                    else
                    {
                        filtered.ResetWrittenCount();
                        filter!.Filter(chunk.AsSpan(0, read), filtered);
                        await response.Body.WriteAsync(filtered.WrittenMemory, aborted).ConfigureAwait(false);
                    }

                    await response.Body.FlushAsync(aborted).ConfigureAwait(false);
                }

                if (filtered is not null)
                {
                    filtered.ResetWrittenCount();
                    filter!.Complete(filtered);
                    await response.Body.WriteAsync(filtered.WrittenMemory, aborted).ConfigureAwait(false);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or HttpRequestException or OperationCanceledException)
        {
            // The upstream cut the stream, or the client left: either way this response cannot end cleanly.
            context.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }
}
