using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Sluice.Caching;
using Sluice.Providers;

namespace Sluice.Engine;

/// <summary>
/// The response cache in the pipeline: a request is looked up before it waits at the gate and, on a hit, answered
/// without sending; on a miss it is sent as usual and its answer stored once it is complete and valid — a buffered 2xx
/// whose body parses as JSON at once, a 2xx stream when its reader reaches its terminator, every byte of it having
/// passed through the engine. A cache that fails is a miss: it never fails a request.
/// </summary>
public sealed partial class SluiceEngine
{
    /// <summary>The header that tells a face's caller how the cache answered: <c>hit</c> or <c>miss</c>.</summary>
    internal const string CacheHeader = "x-sluice-cache";

    /// <summary>The largest answer stored: a bigger one (a long stream) is passed through and not kept.</summary>
    internal const int MaxCachedAnswerBytes = 8 << 20;

    private static CacheKey CacheKeyOf(ProviderKind provider, SluiceRequest request)
    {
        var uri = request.Template.RequestUri;
        string path = uri is null ? "/" : uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', 2)[0];
        return CacheKey.For(provider, path, request.Body.Span);
    }

    /// <summary>Looks a request up: its key, and its answer when the cache holds one.</summary>
    private async ValueTask<(CacheKey Key, SluiceResponse? Hit)> LookUpAsync(ResponseCache cache, SluiceRequest request, CancellationToken cancellationToken)
    {
        long started = Gate.Time.GetTimestamp();
        var key = CacheKeyOf(Provider, request);
        CachedAnswer? answer;
        try
        {
            answer = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A cache's fault is a miss; the request is sent.
            return (key, null);
        }

        if (answer is null || answer.StatusCode is < 200 or > 299)
        {
            return (key, null);
        }

        var message = new HttpResponseMessage((HttpStatusCode)answer.StatusCode)
        {
            Content = new ReadOnlyMemoryContent(answer.Body),
            RequestMessage = request.Template,
        };
        if (answer.ContentType is { } contentType)
        {
            message.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        message.Headers.TryAddWithoutValidation(CacheHeader, "hit");
        return (key, new SluiceResponse(request, message, answer.Usage, Gate.Time.GetElapsedTime(started)));
    }

    /// <summary>
    /// Marks a missed request's answer and arranges for it to be stored: a buffered one now, a stream when its reader
    /// reaches its end. Only a 2xx success is kept.
    /// </summary>
    private async ValueTask RememberAsync(ResponseCache cache, CacheKey key, SluiceResponse response)
    {
        if (!response.IsSuccess || response.Message is not { } message || (int)message.StatusCode is < 200 or > 299)
        {
            return;
        }

        message.Headers.TryAddWithoutValidation(CacheHeader, "miss");
        int status = (int)message.StatusCode;
        string? contentType = message.Content.Headers.ContentType?.ToString();
        var time = Gate.Time;
        if (message.Content is WatchedStreamContent stream)
        {
            stream.TeeTo(new StreamTee(MaxCachedAnswerBytes, (body, usage) => StoreAsync(cache, key, new CachedAnswer
            {
                StatusCode = status,
                ContentType = contentType,
                Body = body,
                IsStream = true,
                Usage = usage,
                StoredAt = time.GetUtcNow(),
            })));
            return;
        }

        byte[] bytes;
        try
        {
            bytes = await message.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or ObjectDisposedException)
        {
            return;
        }

        // Only a whole JSON answer: a body of another kind (audio, a file) or a cut one is passed on and not kept.
        if (bytes.Length > MaxCachedAnswerBytes || !JsonBody.IsWellFormedValue(bytes))
        {
            return;
        }

        await StoreAsync(cache, key, new CachedAnswer
        {
            StatusCode = status,
            ContentType = contentType,
            Body = bytes,
            Usage = response.Usage,
            StoredAt = time.GetUtcNow(),
        }).ConfigureAwait(false);
    }

    private static async ValueTask StoreAsync(ResponseCache cache, CacheKey key, CachedAnswer answer)
    {
        try
        {
            await cache.StoreAsync(key, answer).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A cache that fails to store costs a later request a send, never this one its answer.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary><see cref="SendAsync"/> through a cache: a hit never reaches the gate.</summary>
    private async Task<SluiceResponse> SendThroughCacheAsync(ResponseCache cache, SluiceRequest request, SluiceSendOptions options, CancellationToken cancellationToken)
    {
        var (key, hit) = await LookUpAsync(cache, request, cancellationToken).ConfigureAwait(false);
        if (hit is not null)
        {
            return hit;
        }

        var response = await SendUncachedAsync(request, options, cancellationToken).ConfigureAwait(false);
        await RememberAsync(cache, key, response).ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// <see cref="SendAllAsync"/> through a cache: each request is looked up as it is read; hits are yielded at once,
    /// misses go on to the dispatcher, and both are yielded as they end. Bounded: a hit waits for room among the
    /// <paramref name="maxInProgress"/> answers not yet taken by the caller.
    /// </summary>
    private async IAsyncEnumerable<SluiceResponse> SendAllThroughCacheAsync(
        ResponseCache cache,
        IAsyncEnumerable<SluiceRequest> requests,
        int maxInProgress,
        SluiceSendOptions options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var ended = Channel.CreateBounded<SluiceResponse>(new BoundedChannelOptions(maxInProgress) { SingleReader = true });
        var keys = new Dictionary<SluiceRequest, CacheKey>(ReferenceEqualityComparer.Instance);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        async IAsyncEnumerable<SluiceRequest> MissesOf([EnumeratorCancellation] CancellationToken token)
        {
            await foreach (var request in requests.WithCancellation(token).ConfigureAwait(false))
            {
                if (!request.HasContent)
                {
                    yield return request;
                    continue;
                }

                var (key, hit) = await LookUpAsync(cache, request, token).ConfigureAwait(false);
                if (hit is not null)
                {
                    await ended.Writer.WriteAsync(hit, token).ConfigureAwait(false);
                    continue;
                }

                lock (keys)
                {
                    keys[request] = key;
                }

                yield return request;
            }
        }

        async Task PumpAsync()
        {
            try
            {
                await foreach (var response in SendAllUncachedAsync(MissesOf(stop.Token), maxInProgress, options, stop.Token).ConfigureAwait(false))
                {
                    bool looked;
                    CacheKey key;
                    lock (keys)
                    {
                        looked = keys.Remove(response.Request, out key);
                    }

                    if (looked)
                    {
                        await RememberAsync(cache, key, response).ConfigureAwait(false);
                    }

                    try
                    {
                        await ended.Writer.WriteAsync(response, stop.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        response.Message?.Dispose();
                        throw;
                    }
                }

                ended.Writer.TryComplete();
            }
            catch (Exception exception)
            {
                ended.Writer.TryComplete(exception);
            }
        }

        var pump = Task.Run(PumpAsync, CancellationToken.None);
        try
        {
            await foreach (var response in ended.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return response;
            }
        }
        finally
        {
            // The caller stopped taking answers (or all are taken): stop the pump and let go of what it still holds.
            await stop.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
            while (ended.Reader.TryRead(out var left))
            {
                left.Message?.Dispose();
            }
        }
    }
}
