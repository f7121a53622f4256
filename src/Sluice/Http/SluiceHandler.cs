using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Gate;

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
    private readonly ProviderAttempt _attempt;
    private long _requestNumber;

    /// <summary>Creates a handler with its own gate. Give one instance to one <see cref="HttpClient"/>, or use <c>AddSluice</c> with the HTTP client factory.</summary>
    /// <param name="options">Provider, budgets and retries; validated (every error at once) and copied.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
    /// <param name="random">The source of backoff and pause jitter, so a run can be repeated; a new unseeded one when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some options are invalid.</exception>
    public SluiceHandler(
        SluiceHandlerOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        Random? random = null)
        : this(new SluiceRuntime(options, timeProvider ?? TimeProvider.System, loggerFactory, meterFactory, random ?? new Random()), ownsRuntime: true)
    {
    }

    internal SluiceHandler(SluiceRuntime runtime, bool ownsRuntime)
    {
        _runtime = runtime;
        _ownsRuntime = ownsRuntime;
        _attempt = new ProviderAttempt((message, token) => base.SendAsync(message, token), runtime.Profile, runtime.Time);
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
        var job = outgoing.Job(JobId(request), partition);
        var answers = new TriedAnswers();
        var result = await _runtime.Dispatcher.RunAsync(
            job,
            async (attempt, token) =>
            {
                var outcome = await AttemptAsync(request, outgoing, attempt, token).ConfigureAwait(false);
                answers.Add(outcome.Value);
                return outcome;
            },
            cancellationToken).ConfigureAwait(false);

        // Only the job's final answer may reach the caller; every other try's answer (an earlier failure, a hedge that
        // lost, one that came back after its try was abandoned) is let go here or as soon as it arrives.
        answers.ReleaseAllBut(result.Value);

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

    /// <summary>One try through the shared <see cref="ProviderAttempt"/>, refreshing a rejected credential on the caller's message.</summary>
    private ValueTask<AttemptOutcome<HttpResponseMessage>> AttemptAsync(
        HttpRequestMessage request,
        OutgoingRequest outgoing,
        AttemptContext attempt,
        CancellationToken cancellationToken) =>
        _attempt.SendAsync(
            outgoing.CreateMessage,
            outgoing.IsStreaming,
            attempt,
            _runtime.Refresher is { } refresher
                ? token => refresher.RefreshAsync(request, PartitionKeys.Fingerprint(request), token)
                : null,
            (response, body) => _runtime.RememberStop(attempt.Job.Partition, response, body),
            cancellationToken);

    private string JobId(HttpRequestMessage request) =>
        request.Headers.TryGetValues("X-Sluice-Custom-Id", out var ids) || request.Headers.TryGetValues("X-Request-Id", out ids)
            ? ids.First()
            : $"request-{Interlocked.Increment(ref _requestNumber)}";
}
