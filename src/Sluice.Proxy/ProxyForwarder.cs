using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// Forwards one client request, step by step:
/// 1. refuse a target that is not a plain path, and a client without the proxy's key (when one is required);
/// 2. read the body (up to the size limit) and route by prefix, model and path to a configured upstream;
/// 3. build the upstream message: the client's headers less hop-by-hop ones, the proxy's key if it holds one;
/// 4. send it through the upstream's <see cref="SluiceEngine"/> — the same pipeline as <c>SluiceHandler</c> and
///    <c>sluice run</c> — while a <see cref="WaitClock"/> bounds the time spent waiting, not working;
/// 5. answer: the provider's response (streams pass through event by event, flushed as they arrive), the provider's
///    stop answer for a stopped partition, or the proxy's own 429 / 502 / 503 with an honest Retry-After.
/// The client's disconnect cancels everything: a waiter leaves the queue, a stream releases its slot.
/// </summary>
internal sealed class ProxyForwarder(
    SluiceProxyOptions settings,
    IReadOnlyDictionary<string, ProxyUpstreamRuntime> runtimes,
    ProxyMetrics metrics,
    TimeProvider time,
    ILogger logger)
{
    private readonly ProxyRouter _router = new([.. settings.Upstreams]);
    private readonly StoppedPartitions _stopped = new(settings.StoppedRetry, time, logger);
    private readonly HeldRequests _held = new(settings.MaxQueueTotal);
    private long _requestNumber;

    public async Task HandleAsync(HttpContext context)
    {
        // The bound over every partition's queue together (docs/security.md): a full proxy answers at once.
        if (!_held.TryEnter())
        {
            await TurnAwayAsync(context, 503, settings.Upstreams[0].Provider, "proxy_full",
                $"sluice proxy: it already holds {settings.MaxQueueTotal} requests (--max-queue-total). Retry after the Retry-After header.",
                ProxyFullRetryAfter).ConfigureAwait(false);
            return;
        }

        try
        {
            await ForwardAsync(context).ConfigureAwait(false);
        }
        catch (Exception exception) when (context.RequestAborted.IsCancellationRequested && exception is OperationCanceledException or IOException)
        {
            // The client went away mid-answer: nobody is left to tell, and its slot and queue place are already freed.
        }
        finally
        {
            _held.Exit();
        }
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var aborted = context.RequestAborted;
        var request = context.Request;
        string rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        string path = request.Path.Value ?? "/";
        var prefixed = _router.ByPrefix(path, out string upstreamPath);
        var errorStyle = (prefixed ?? settings.Upstreams[0]).Provider;

        // 1. The target and the client.
        if (ProxyRequestGuard.Refusal(request.Method, rawTarget) is { } refusal)
        {
            ProxyLog.Refused(logger, request.Method, refusal);
            await TurnAwayAsync(context, 400, errorStyle, "upstream_not_allowed", $"sluice proxy: {refusal}.").ConfigureAwait(false);
            return;
        }

        if (!ProxyRouter.IsApiPath(upstreamPath))
        {
            await TurnAwayAsync(context, 404, errorStyle, "not_found", "sluice proxy forwards paths under /v1/ only.").ConfigureAwait(false);
            return;
        }

        if (settings.ProxyKey is { } proxyKey && !ProxyKeys.Accepts(proxyKey, request.Headers))
        {
            await TurnAwayAsync(context, 401, errorStyle, "proxy_key", "sluice proxy: present the proxy's key (Authorization: Bearer, or x-api-key).").ConfigureAwait(false);
            return;
        }

        // 2. The body, and the upstream.
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(request, aborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await TurnAwayAsync(context, 413, errorStyle, "request_too_large", $"sluice proxy: the request body is larger than {settings.MaxRequestBodyBytes / (1024 * 1024)} MB.").ConfigureAwait(false);
            return;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return; // The client went away or broke off its body: nobody to answer.
        }

        string? model = body is { Length: > 0 } ? SluiceRequest.ReadModel(body) : null;
        if (model is not null && !ProxyLimits.IsValidModel(model))
        {
            // A model names a partition (status, metrics, logs): one the upstream cannot know is refused, never kept.
            await TurnAwayAsync(context, 400, errorStyle, "invalid_model",
                $"sluice proxy: 'model' must be 1 to {ProxyLimits.MaxModelLength} characters of letters, digits and . _ - : / @ +.").ConfigureAwait(false);
            return;
        }

        var upstream = prefixed ?? _router.Route(upstreamPath, model);
        if (upstream is null)
        {
            await TurnAwayAsync(context, 404, errorStyle, "no_upstream", $"sluice proxy: no upstream is configured for model '{model ?? "(none)"}' at {upstreamPath}, and none is the default.").ConfigureAwait(false);
            return;
        }

        // 3. The upstream message.
        var runtime = runtimes[upstream.Name];
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), BaseUrl.Join(upstream.Url, upstreamPath + request.QueryString.Value));
        if (body is not null)
        {
            message.Content = new ByteArrayContent(body);
        }

        ProxyHeaders.CopyRequestHeaders(request.Headers, message, dropCredentials: upstream.ApiKey is not null);
        if (upstream.ApiKey is { } key)
        {
            ProviderCredentials.Add(message, upstream.Provider, key);
        }

        var outgoing = runtime.Engine.Capture(
            message,
            body,
            $"proxy-{Interlocked.Increment(ref _requestNumber)}",
            scope: upstream.Name,
            modelGroup: runtime.ModelGroup(model));
        string partition = outgoing.Partition;

        // 4. Wait for a turn and send, as one job.
        var gatePartition = runtime.Gate.GetPartition(partition);
        if (!string.Equals(gatePartition.Key, partition, StringComparison.Ordinal))
        {
            // The upstream holds --max-partitions partitions, none idle: the gate refused to make another.
            await TurnAwayAsync(context, 503, upstream.Provider, "too_many_partitions",
                $"sluice proxy: {upstream.Name} already holds {settings.MaxPartitions} partitions (--max-partitions), none idle for {WaitText.Format(settings.PartitionIdleTimeout)}. Retry after the Retry-After header.",
                ProxyFullRetryAfter).ConfigureAwait(false);
            return;
        }

        _stopped.ResumeIfDue(gatePartition);
        var limits = runtime.LimitsOf(partition);

        // A request certain to wait longer than allowed is told so now, not after waiting --max-wait in vain.
        var expected = RetryAfterEstimate.ExpectedWait(gatePartition.GetSnapshot(), limits, time.GetUtcNow());
        if (expected > settings.MaxWait)
        {
            await TurnAwayAsync(context, 429, upstream.Provider, "max_wait",
                $"sluice proxy: this request would wait about {WaitText.Format(RoundUp(expected))} for its turn at {upstream.Name}, longer than {WaitText.Format(settings.MaxWait)} (--max-wait). Retry after the Retry-After header.",
                expected).ConfigureAwait(false);
            return;
        }

        // The clock counts only waiting: it stops while a try is with the upstream and runs again after a refusal.
        using var clock = new WaitClock(settings.MaxWait, time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted, clock.Token);
        var result = await runtime.Engine.SendAsync(
            outgoing,
            new SluiceSendOptions
            {
                AttemptStarting = clock.Pause,
                StopsPartition = runtime.StopsPartition,
                AttemptEnded = kind =>
                {
                    if (kind is AttemptOutcomeKind.Throttled or AttemptOutcomeKind.Transient)
                    {
                        clock.Resume();
                    }
                },
            },
            cancel.Token).ConfigureAwait(false);

        if (result.Reason is JobEndReason.QuotaExhausted or JobEndReason.AuthFailed or JobEndReason.Parked)
        {
            _stopped.Stopped(gatePartition);
        }

        // 5. The answer.
        using (var answer = result.Message)
        {
            if (answer is not null)
            {
                metrics.Responses.Add(1, Tag("sluice.upstream", upstream.Name), Tag("http.response.status_code", (int)answer.StatusCode));
                bool stream = outgoing.IsStreaming && answer.IsSuccessStatusCode;
                // Sluice asked for usage on the client's behalf if the body did not: then the client does not see it.
                await ProxyRelay.RelayAsync(context, answer, stream, stream && outgoing.UsageAdded ? new UsageChunkFilter() : null).ConfigureAwait(false);
                return;
            }

            if (aborted.IsCancellationRequested)
            {
                return;
            }

            var snapshot = gatePartition.GetSnapshot();
            var retryAfter = RetryAfterEstimate.For(snapshot, limits, time.GetUtcNow());
            switch (result.Reason)
            {
                case JobEndReason.Canceled when clock.Expired:
                    await TurnAwayAsync(context, 429, upstream.Provider, "max_wait",
                        $"sluice proxy: this request waited {WaitText.Format(settings.MaxWait)} (--max-wait) for its turn at {upstream.Name}; {snapshot.Queued} requests are queued. Retry after the Retry-After header.",
                        retryAfter).ConfigureAwait(false);
                    break;
                case JobEndReason.QueueFull:
                    await TurnAwayAsync(context, 429, upstream.Provider, "queue_full",
                        $"sluice proxy: the queue for {upstream.Name} is full ({settings.MaxQueue} requests, --max-queue). Retry after the Retry-After header.",
                        retryAfter).ConfigureAwait(false);
                    break;
                case JobEndReason.Drained:
                    await TurnAwayAsync(context, 503, upstream.Provider, "draining", "sluice proxy is shutting down; retry shortly.", TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                    break;
                case JobEndReason.PartitionStopped:
                    await TurnAwayAsync(context, 503, upstream.Provider, "partition_stopped", $"sluice proxy: {upstream.Name} is stopped: {result.Error}").ConfigureAwait(false);
                    break;
                default:
                    ProxyLog.UpstreamFailed(logger, upstream.Name, result.Reason.ToString(), result.Error ?? "no answer");
                    await TurnAwayAsync(context, 502, upstream.Provider, "upstream_failed",
                        $"sluice proxy: {upstream.Name} gave no usable answer after {result.Attempts} attempts: {result.Error}").ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>Answers a request the proxy will not or cannot forward, counting it.</summary>
    private Task TurnAwayAsync(HttpContext context, int status, ProviderKind style, string reason, string text, TimeSpan? retryAfter = null)
    {
        metrics.TurnedAway.Add(1, Tag("sluice.reason", reason));
        return ProxyErrors.WriteAsync(context, status, style, reason, text, retryAfter);
    }

    /// <summary>The body, buffered so a retry can send it again; null for a bodiless method. Kestrel enforces the size limit.</summary>
    private async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        bool hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if (!hasBody && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsDelete(request.Method) || HttpMethods.IsOptions(request.Method)))
        {
            return null;
        }

        if (request.ContentLength > settings.MaxRequestBodyBytes)
        {
            throw new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge);
        }

        // The server enforces the limit on a body whose length is not declared, whatever host the proxy runs in.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        }

        using var buffer = new MemoryStream(request.ContentLength is long length ? (int)length : 4096);
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>When a full proxy or upstream may have room: the gate looks for idle partitions every minute, and queues move faster.</summary>
    private static readonly TimeSpan ProxyFullRetryAfter = TimeSpan.FromSeconds(5);

    private static TimeSpan RoundUp(TimeSpan wait) => TimeSpan.FromSeconds(Math.Ceiling(wait.TotalSeconds));

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
