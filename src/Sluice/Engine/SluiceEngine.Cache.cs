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

    /// <summary>The longest a caller waits for its answer to be stored.</summary>
    private static readonly TimeSpan MaxStoreWait = TimeSpan.FromSeconds(1);

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
#pragma warning disable CA1031 // A cache's fault is a miss, and a lookup cancelled is one too: the dispatcher then ends the request as it ends any cancelled one.
        catch (Exception)
#pragma warning restore CA1031
        {
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
            stream.TeeTo(new StreamTee(MaxCachedAnswerBytes, (body, usage) => StoreAsync(cache, key, time, new CachedAnswer
            {
                StatusCode = status,
                ContentType = contentType,
                Body = body,
                IsStream = true,
                Usage = usage,
                // Read at the stream's end, once its try's spend has settled to the real usage.
                Cost = response.Cost,
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

        await StoreAsync(cache, key, time, new CachedAnswer
        {
            StatusCode = status,
            ContentType = contentType,
            Body = bytes,
            Usage = response.Usage,
            Cost = response.Cost,
            StoredAt = time.GetUtcNow(),
        }).ConfigureAwait(false);
    }

    /// <summary>
    /// Stores an answer, waiting for it at most <see cref="MaxStoreWait"/>: a caller (a stream's last read, a buffered
    /// answer's return) is never held long by a cache that is slow (another process holding its write lock); the store
    /// then finishes on its own.
    /// </summary>
    private static async ValueTask StoreAsync(ResponseCache cache, CacheKey key, TimeProvider time, CachedAnswer answer)
    {
        Task storing;
        try
        {
            storing = cache.StoreAsync(key, answer).AsTask();
        }
#pragma warning disable CA1031 // A cache that fails to store costs a later request a send, never this one its answer.
        catch (Exception)
        {
            return;
        }

        try
        {
            await storing.WaitAsync(MaxStoreWait, time).ConfigureAwait(false);
        }
        catch (Exception)
#pragma warning restore CA1031
        {
            // Failed, or still going: either way this answer is delivered; a late failure is observed, not thrown.
            _ = storing.ContinueWith(static done => done.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
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
    /// misses go on to the dispatcher, and both are yielded as they end. Bounded: besides the dispatcher's
    /// <paramref name="maxInProgress"/>, at most as many ended requests wait for the caller to take them. Cancelling
    /// ends the misses as the dispatcher ends them (each with its result); a request read is never lost.
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

        // Cancelled only when the caller stops taking answers: until then every request read gets its one answer.
        using var callerGone = new CancellationTokenSource();
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, callerGone.Token);

        async IAsyncEnumerable<SluiceRequest> MissesOf([EnumeratorCancellation] CancellationToken reading)
        {
            await foreach (var request in requests.WithCancellation(reading).ConfigureAwait(false))
            {
                if (!request.HasContent)
                {
                    yield return request;
                    continue;
                }

                // Once read, a request is answered: its lookup and its hit's delivery ignore the reading token.
                var (key, hit) = await LookUpAsync(cache, request, CancellationToken.None).ConfigureAwait(false);
                if (hit is not null)
                {
                    await ended.Writer.WriteAsync(hit, callerGone.Token).ConfigureAwait(false);
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
                await foreach (var response in SendAllUncachedAsync(MissesOf(CancellationToken.None), maxInProgress, options, sending.Token).ConfigureAwait(false))
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
                        await ended.Writer.WriteAsync(response, callerGone.Token).ConfigureAwait(false);
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
            await callerGone.CancelAsync().ConfigureAwait(false);
            await pump.ConfigureAwait(false);
            while (ended.Reader.TryRead(out var left))
            {
                left.Message?.Dispose();
            }
        }
    }
}
