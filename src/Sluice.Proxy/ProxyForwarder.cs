using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// Forwards one client request, step by step:
/// 1. refuse a target that is not a plain path (the raw target, <see cref="ProxyRequestGuard"/>), a method an API does
///    not use, and a client without the proxy's key or a tenant's (when one is required); know its tenant
///    (<see cref="ProxyTenants"/>), whose weight, priority, limits and spend cap go with the request to the gate;
/// 2. read the body as it arrives, within the size limit and the proxy-wide bound on buffered bytes
///    (<see cref="RequestBodyReader"/>), and route by prefix, model and path to a configured upstream;
/// 3. build the upstream message from the raw path, checked again as it will be sent; the client's headers less
///    hop-by-hop ones, or only the allow-list when the proxy holds the key (<see cref="ProxyHeaders"/>), and that key;
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
    private readonly BufferedBytes _buffers = new(settings.MaxBufferedRequestBytes);
    private readonly ProxyTenants _tenants = new(settings, time);
    // No honest estimate exists of when other clients' bodies are answered; a few seconds spreads the retries.
    private static readonly TimeSpan BuffersFullRetryAfter = TimeSpan.FromSeconds(5);

    private long _requestNumber;

    /// <summary>Request bodies held now, over every client.</summary>
    internal BufferedBytes Buffers => _buffers;

    /// <summary>The tenants: who each request is, and what became of each tenant's requests.</summary>
    internal ProxyTenants Tenants => _tenants;

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
        var request = context.Request;
        // The raw target, not the server's decoded path: what is checked is what is sent (ProxyRequestGuard).
        // A server that keeps no raw target (an empty one by default) gets the decoded path re-encoded instead.
        string rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } raw ? raw : request.Path.ToUriComponent() + request.QueryString.Value;
        var (path, query) = ProxyRequestGuard.Split(rawTarget);
        string? refusal = WithoutPathBase(request.PathBase, ref path);
        var prefixed = _router.ByPrefix(path, out string upstreamPath);
        var errorStyle = (prefixed ?? settings.Upstreams[0]).Provider;

        // 1. The target and the client.
        if ((refusal ?? ProxyRequestGuard.Refusal(request.Method, rawTarget)) is { } refused)
        {
            await RefuseTargetAsync(context, errorStyle, refused).ConfigureAwait(false);
            return;
        }

        if (!ProxyRequestGuard.IsForwardedMethod(request.Method))
        {
            context.Response.Headers.Allow = ProxyRequestGuard.ForwardedMethods;
            await TurnAwayAsync(context, 405, errorStyle, "method_not_allowed", $"sluice proxy forwards only {ProxyRequestGuard.ForwardedMethods}.").ConfigureAwait(false);
            return;
        }

        if (!ProxyRouter.IsApiPath(upstreamPath))
        {
            await TurnAwayAsync(context, 404, errorStyle, "not_found", "sluice proxy forwards paths under /v1/ only.").ConfigureAwait(false);
            return;
        }

        // The client: the proxy key, a tenant's key, or the tenant header (ProxyTenants); a key is never repeated.
        var identity = _tenants.Identify(request.Headers);
        if (identity.IsRefused)
        {
            await TurnAwayAsync(context, identity.Status, errorStyle, identity.Reason!, identity.Message!,
                identity.Status == 429 ? ProxyFullRetryAfter : null).ConfigureAwait(false);
            return;
        }

        var tenant = identity.Tenant;
        if (tenant is null)
        {
            await SendAsync(context, prefixed, upstreamPath, query, errorStyle, null).ConfigureAwait(false);
            return;
        }

        // From here on, the tenant's requests are counted: answered, or refused by the proxy (TurnAwayAsync).
        context.Items[TenantItem] = tenant;
        metrics.TenantRequests.Add(1, Tag("tenant", tenant.Name));
        try
        {
            await SendAsync(context, prefixed, upstreamPath, query, errorStyle, tenant).ConfigureAwait(false);
        }
        finally
        {
            tenant.Leave();
        }
    }

    /// <summary>Steps 2 to 5 for a request whose target and client are checked: <paramref name="tenant"/> is who it is (null: the default tenant).</summary>
    private async Task SendAsync(HttpContext context, ProxyUpstream? prefixed, string upstreamPath, string query, ProviderKind errorStyle, TenantAccount? tenant)
    {
        var aborted = context.RequestAborted;
        var request = context.Request;
        if (!ProxyCacheDirective.TryRead(request.Headers, out string? cacheDirective))
        {
            await TurnAwayAsync(context, 400, errorStyle, "invalid_cache_header", $"sluice proxy: {ProxyCacheDirective.HeaderName} must be 'use' or 'off'.").ConfigureAwait(false);
            return;
        }

        // 2. The body (its bytes held until the answer is relayed), and the upstream.
        using var held = _buffers.Open();
        byte[]? body;
        BodyReadOutcome outcome;
        try
        {
            (outcome, body) = await ReadBodyAsync(request, held, aborted).ConfigureAwait(false);
        }
        catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            outcome = BodyReadOutcome.TooLarge;
            body = null;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or BadHttpRequestException)
        {
            return; // The client went away or broke off its body: nobody to answer.
        }

        switch (outcome)
        {
            case BodyReadOutcome.TooLarge:
                await TurnAwayAsync(context, 413, errorStyle, "request_too_large", $"sluice proxy: the request body is larger than {Megabytes(settings.MaxRequestBodyBytes)} (--max-body-mb).").ConfigureAwait(false);
                return;
            case BodyReadOutcome.OverBudget:
                held.Dispose();
                await TurnAwayAsync(context, 503, errorStyle, "buffers_full",
                    $"sluice proxy is holding as many request bodies as it may ({Megabytes(settings.MaxBufferedRequestBytes)}, --max-buffered-mb); retry after the Retry-After header.",
                    BuffersFullRetryAfter).ConfigureAwait(false);
                return;
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
            await TurnAwayAsync(context, 404, errorStyle, "no_upstream", $"sluice proxy: no upstream is configured for model '{ProxyErrors.Quote(model ?? "(none)")}' at {ProxyErrors.Quote(upstreamPath)}, and none is the default.").ConfigureAwait(false);
            return;
        }

        // 3. The upstream message.
        var runtime = runtimes[upstream.Name];
        var target = BaseUrl.Join(upstream.Url, upstreamPath + query);
        if (ProxyRequestGuard.SentRefusal(upstream.Url, upstreamPath, query, target) is { } changed)
        {
            await RefuseTargetAsync(context, errorStyle, changed).ConfigureAwait(false);
            return;
        }

        using var message = new HttpRequestMessage(new HttpMethod(request.Method), target);
        if (body is not null)
        {
            message.Content = new ByteArrayContent(body);
        }

        ProxyHeaders.CopyRequestHeaders(request.Headers, message, keyHeld: upstream.ApiKey is not null);
        // The proxy's own headers: they say what the proxy does and who asks, and are nothing for the upstream to see.
        message.Headers.Remove(ProxyCacheDirective.HeaderName);
        if (_tenants.Header is { } tenantHeader)
        {
            message.Headers.Remove(tenantHeader);
        }

        var cacheUse = ProxyCacheDirective.Decide(upstream, settings.Cache is not null, cacheDirective, request.Method, body);
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

        // A request certain to wait longer than allowed is told so now, not after waiting --max-wait in vain. With
        // tenants, only its own tenant's queue is certainly ahead of it.
        var expected = RetryAfterEstimate.ExpectedWait(gatePartition.GetSnapshot(), limits, time.GetUtcNow(), tenant?.Name);
        if (expected > settings.MaxWait)
        {
            await TurnAwayAsync(context, 429, upstream.Provider, "max_wait",
                $"sluice proxy: this request would wait about {WaitText.Format(RoundUp(expected))} for its turn at {upstream.Name}, longer than {WaitText.Format(settings.MaxWait)} (--max-wait). Retry after the Retry-After header.",
                expected).ConfigureAwait(false);
            return;
        }

        // Spend caps: the upstream's and this client's (its credential's fingerprint). A request naming no model (a
        // model list, a file) is not priced by tokens, so no cap counts it.
        // A tenant's own daily cap comes on top, one cap shared by every upstream.
        var spendCaps = outgoing.Model is not null ? WithTenantCap(runtime.Spend.CapsFor(ClientFingerprint.Of(request.Headers)), tenant?.SpendCap) : null;

        // The clock counts only waiting: it stops while a try is with the upstream and runs again after a refusal.
        using var clock = new WaitClock(settings.MaxWait, time);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(aborted, clock.Token);
        var result = await runtime.Engine.SendAsync(
            outgoing,
            new SluiceSendOptions
            {
                AttemptStarting = clock.Pause,
                StopsPartition = runtime.StopsPartition,
                Cache = cacheUse == CacheUse.Use ? settings.Cache : null,
                SpendCaps = spendCaps,
                Tenant = tenant?.Gate,
                Priority = tenant?.Priority ?? 0,
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
            if (result.Reason == JobEndReason.SpendCapReached && spendCaps is not null)
            {
                // 402, not 429: the SDKs retry a 429, and no retry can help before the cap's day ends.
                var (cap, text) = runtime.Spend.Refusal(spendCaps, result.Error, outgoing.Model, runtime.Engine.EstimateCost(outgoing), runtime.Engine.Prices.AsOf, tenant?.SpendCap);
                metrics.SpendCapRefusals.Add(1, Tag("sluice.upstream", upstream.Name), Tag("sluice.spend.cap", cap));
                await TurnAwayAsync(context, 402, upstream.Provider, ProxyErrors.SpendCapReached, text).ConfigureAwait(false);
                return;
            }

            if (answer is not null)
            {
                metrics.Responses.Add(1, Tag("sluice.upstream", upstream.Name), Tag("http.response.status_code", (int)answer.StatusCode));
                if (cacheUse != CacheUse.None)
                {
                    string cacheResult = cacheUse == CacheUse.Bypass ? ProxyCacheDirective.Bypass : result.FromCache ? "hit" : "miss";
                    runtime.CountCache(cacheResult);
                    metrics.Cache.Add(1, Tag("sluice.upstream", upstream.Name), Tag("sluice.cache.result", cacheResult));
                }

                // An answer to HEAD has no body, so it is never a stream, whatever the request body asked for.
                bool stream = outgoing.IsStreaming && answer.IsSuccessStatusCode && !HttpMethods.IsHead(request.Method);
                // Sluice asked for usage on the client's behalf if the body did not: then the client does not see it.
                await ProxyRelay.RelayAsync(context, answer, stream, stream && outgoing.UsageAdded ? new UsageChunkFilter() : null, upstream.ApiKey,
                    cacheUse == CacheUse.Bypass ? ProxyCacheDirective.Bypass : null).ConfigureAwait(false);

                // Read once the answer is relayed: a stream's cost is known at its end. A cache hit cost nothing.
                if ((result.FromCache ? 0m : result.Cost) is { } cost)
                {
                    runtime.Spend.Count(cost);
                    metrics.Spend.Add((double)cost, Tag("sluice.upstream", upstream.Name));
                    tenant?.CountSpend(cost);
                }

                if (tenant is not null)
                {
                    tenant.CountAnswered();
                    metrics.TenantAnswered.Add(1, Tag("tenant", tenant.Name));
                }

                return;
            }

            if (aborted.IsCancellationRequested)
            {
                return;
            }

            var snapshot = gatePartition.GetSnapshot();
            var retryAfter = RetryAfterEstimate.For(snapshot, limits, time.GetUtcNow(), tenant?.Name);
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

    private Task RefuseTargetAsync(HttpContext context, ProviderKind style, string refusal)
    {
        ProxyLog.Refused(logger, ProxyErrors.Quote(context.Request.Method, 20), refusal);
        return TurnAwayAsync(context, 400, style, "upstream_not_allowed", $"sluice proxy: {refusal}.");
    }

    /// <summary>Takes the host's path base (where the app mapped the proxy) off the raw path; why not, when it is not there.</summary>
    private static string? WithoutPathBase(PathString pathBase, ref string path)
    {
        if (!pathBase.HasValue)
        {
            return null;
        }

        string raw = pathBase.ToUriComponent();
        if (!path.StartsWith(raw, StringComparison.OrdinalIgnoreCase))
        {
            return "the request path must name the proxy's path base plainly";
        }

        path = path[raw.Length..];
        return null;
    }

    /// <summary>Answers a request the proxy will not or cannot forward, counting it.</summary>
    private Task TurnAwayAsync(HttpContext context, int status, ProviderKind style, string reason, string text, TimeSpan? retryAfter = null)
    {
        metrics.TurnedAway.Add(1, Tag("sluice.reason", reason));
        if (context.Items.TryGetValue(TenantItem, out object? item) && item is TenantAccount tenant)
        {
            tenant.CountRefused();
            metrics.TenantRefused.Add(1, Tag("tenant", tenant.Name), Tag("sluice.reason", reason));
        }

        return ProxyErrors.WriteAsync(context, status, style, reason, text, retryAfter);
    }

    /// <summary>
    /// The body, buffered so a retry can send it again; null for a bodiless method. Memory grows only as bytes arrive
    /// (<see cref="RequestBodyReader"/>), within the proxy-wide bound, and the size limit holds whatever the server.
    /// </summary>
    private async Task<(BodyReadOutcome Outcome, byte[]? Body)> ReadBodyAsync(HttpRequest request, BufferedBytes.Lease held, CancellationToken cancellationToken)
    {
        bool hasBody = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0;
        if (!hasBody && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsDelete(request.Method) || HttpMethods.IsOptions(request.Method)))
        {
            return (BodyReadOutcome.Read, null);
        }

        if (request.ContentLength > settings.MaxRequestBodyBytes)
        {
            return (BodyReadOutcome.TooLarge, null);
        }

        // The server enforces the limit on a body whose length is not declared, whatever host the proxy runs in.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = settings.MaxRequestBodyBytes;
        }

        return await RequestBodyReader.ReadAsync(request.Body, request.ContentLength, settings.MaxRequestBodyBytes, held, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>When a full proxy or upstream may have room: the gate looks for idle partitions every minute, and queues move faster.</summary>
    private static readonly TimeSpan ProxyFullRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>Where a request's tenant is kept for <see cref="TurnAwayAsync"/> to count its refusals.</summary>
    private static readonly object TenantItem = new();

    /// <summary>The caps a request reserves in: the upstream's and the client's, and its tenant's; null when none.</summary>
    private static IReadOnlyList<Sluice.Spend.SpendCap>? WithTenantCap(IReadOnlyList<Sluice.Spend.SpendCap>? caps, Sluice.Spend.SpendCap? tenantCap) =>
        tenantCap is null ? caps : caps is null ? [tenantCap] : [.. caps, tenantCap];

    private static string Megabytes(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MB" : $"{bytes} bytes";

    private static TimeSpan RoundUp(TimeSpan wait) => TimeSpan.FromSeconds(Math.Ceiling(wait.TotalSeconds));

    private static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
