using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Providers;

namespace Sluice.Http;

/// <summary>
/// A <see cref="DelegatingHandler"/> that puts Sluice under any <see cref="HttpClient"/> — and so under the official
/// OpenAI and Anthropic SDKs and Microsoft.Extensions.AI. Every request waits at the gate of its partition (upstream
/// host, credential fingerprint, model), goes out, and its answer feeds back: a 429 pauses the partition until the
/// provider's Retry-After, transient failures are retried with backoff, rate-limit headers correct the budgets, and
/// actual usage settles the token reservation. The caller gets the final response — for a failure, the provider's
/// last error response unchanged, so SDK error handling still works. Streams pass through as they arrive. Turn the
/// SDK's own retries off: Sluice retries.
/// </summary>
public sealed class SluiceHandler : DelegatingHandler
{
    private readonly SluiceRuntime _runtime;
    private readonly bool _ownsRuntime;
    private long _requestNumber;

    /// <summary>Creates a handler with its own gate. Give one instance to one <see cref="HttpClient"/>, or use <c>AddSluice</c> with the HTTP client factory.</summary>
    /// <param name="options">Provider, budgets and retries; validated (every error at once) and copied.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some options are invalid.</exception>
    public SluiceHandler(
        SluiceHandlerOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
        : this(new SluiceRuntime(options, timeProvider ?? TimeProvider.System, loggerFactory, meterFactory, new Random()), ownsRuntime: true)
    {
    }

    internal SluiceHandler(SluiceRuntime runtime, bool ownsRuntime)
    {
        _runtime = runtime;
        _ownsRuntime = ownsRuntime;
    }

    /// <summary>The gate this handler's requests wait at, for inspecting partitions.</summary>
    public SluiceGate Gate => _runtime.Gate;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        _runtime.Refresher?.Apply(request);
        var outgoing = await OutgoingRequest.CaptureAsync(request, cancellationToken).ConfigureAwait(false);
        string partition = PartitionKeys.For(request, outgoing.Model);
        var job = new SluiceJob(JobId(request), partition) { EstimatedTokens = outgoing.EstimatedTokens };
        HttpResponseMessage? previous = null;

        var result = await _runtime.Dispatcher.RunAsync(
            job,
            async (attempt, token) =>
            {
                // An earlier try's answer is superseded: only the last one may reach the caller.
                previous?.Dispose();
                var outcome = await AttemptAsync(request, outgoing, attempt, token).ConfigureAwait(false);
                previous = outcome.Value;
                return outcome;
            },
            cancellationToken).ConfigureAwait(false);

        if (result.Reason == JobEndReason.PartitionStopped && _runtime.StopAnswerFor(partition, request) is { } stopAnswer)
        {
            result.Value?.Dispose();
            return stopAnswer;
        }

        if (result.Value is { } response)
        {
            return response;
        }

        cancellationToken.ThrowIfCancellationRequested();
        string message = $"Sluice: {result.Status} ({result.Reason}): {result.Error}";
        throw result.Reason == JobEndReason.DeadlineExceeded
            ? new TaskCanceledException(message, new TimeoutException(message))
            : new HttpRequestException(message, result.Exception);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsRuntime)
        {
            _runtime.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>
    /// One try: send, feed the rate-limit headers back, and classify. A 2xx stream is handed to the caller at once,
    /// keeping the concurrency slot until its body ends; anything else is read whole so it can be classified and
    /// its usage settled. A rejected credential is refreshed and resent once, within the same try.
    /// </summary>
    private async ValueTask<AttemptOutcome<HttpResponseMessage>> AttemptAsync(
        HttpRequestMessage request,
        OutgoingRequest outgoing,
        AttemptContext attempt,
        CancellationToken cancellationToken)
    {
        bool refreshed = false;
        while (true)
        {
            HttpResponseMessage response;
            string credential = PartitionKeys.Fingerprint(request);
            try
            {
                using var message = outgoing.CreateMessage();
                response = await base.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException exception)
            {
                return AttemptOutcome.Transient<HttpResponseMessage>($"connection failed: {exception.Message}", exception: exception);
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                return AttemptOutcome.Transient<HttpResponseMessage>("the request timed out", exception: exception);
            }

            var now = _runtime.Time.GetUtcNow();
            ObserveRateLimits(attempt.Partition, response, now);
            int status = (int)response.StatusCode;
            if (outgoing.IsStreaming && status is >= 200 and < 300)
            {
                response.Content = new WatchedStreamContent(response.Content, attempt.TakeLease(), _runtime.Profile);
                return AttemptOutcome.Success(response);
            }

            byte[] body;
            try
            {
                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is HttpRequestException or IOException)
            {
                response.Dispose();
                return AttemptOutcome.Transient<HttpResponseMessage>($"the response was cut: {exception.Message}", exception: exception);
            }

            OutgoingRequest.Rebuffer(response, body);
            var verdict = _runtime.Profile.Classify(status, response.Headers, body, now);
            if (verdict.Kind == AttemptOutcomeKind.AuthFailed && !refreshed && _runtime.Refresher is { } refresher)
            {
                refreshed = true;
                if (await refresher.RefreshAsync(request, credential, cancellationToken).ConfigureAwait(false))
                {
                    response.Dispose();
                    continue;
                }
            }

            if (verdict.Kind is AttemptOutcomeKind.QuotaExhausted or AttemptOutcomeKind.AuthFailed)
            {
                _runtime.RememberStop(attempt.Job.Partition, response, body);
            }

            return new AttemptOutcome<HttpResponseMessage>
            {
                Kind = verdict.Kind,
                Value = response,
                Error = verdict.Error,
                RetryAfter = verdict.RetryAfter,
                ActualTokens = verdict.Kind == AttemptOutcomeKind.Success && UsageReader.ReadTotal(body) is { } used
                    ? _runtime.Profile.SettledTokens(attempt.Lease.ReservedTokens, used)
                    : null,
            };
        }
    }

    private static void ObserveRateLimits(GatePartition partition, HttpResponseMessage response, DateTimeOffset now)
    {
        var limits = RateLimitHeaders.Parse(response.Headers, now);
        if (limits.Requests is { Remaining: { } requestsLeft, ResetAt: { } requestsReset } requests)
        {
            partition.ObserveRequests(requestsLeft, requestsReset, requests.Limit);
        }

        if (limits.Tokens is { Remaining: { } tokensLeft, ResetAt: { } tokensReset } tokens)
        {
            partition.ObserveTokens(tokensLeft, tokensReset, tokens.Limit);
        }
    }

    private string JobId(HttpRequestMessage request) =>
        request.Headers.TryGetValues("X-Sluice-Custom-Id", out var ids) || request.Headers.TryGetValues("X-Request-Id", out ids)
            ? ids.First()
            : $"request-{Interlocked.Increment(ref _requestNumber)}";
}
