using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;

namespace Sluice.Http;

/// <summary>
/// A <see cref="DelegatingHandler"/> that puts Sluice under any <see cref="HttpClient"/> — and so under the official
/// OpenAI and Anthropic SDKs and Microsoft.Extensions.AI. Every request goes through a <see cref="SluiceEngine"/>: it
/// waits at the gate of its partition (upstream host, credential fingerprint, model), goes out through this handler's
/// inner handler, and its answer feeds back: a 429 pauses the partition until the provider's Retry-After, transient
/// failures are retried with backoff, rate-limit headers correct the budgets, and actual usage settles the token
/// reservation. The caller gets the final response — for a failure, the provider's last error response unchanged, so
/// SDK error handling still works. Streams pass through as they arrive. Turn the SDK's own retries off: Sluice retries.
/// </summary>
public sealed class SluiceHandler : DelegatingHandler
{
    private readonly SluiceEngine _engine;
    private readonly bool _ownsEngine;
    private readonly SluiceSendOptions _send;

    /// <summary>Creates a handler with its own engine. Give one instance to one <see cref="HttpClient"/>, or use <c>AddSluice</c> with the HTTP client factory.</summary>
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
        : this(new SluiceEngine(options, transport: null, timeProvider, loggerFactory, meterFactory, random), ownsEngine: true)
    {
    }

    /// <summary>
    /// Creates a handler over an engine other handlers or faces share, so their requests share its budgets. The
    /// handler sends through its own inner handler; it does not dispose the engine.
    /// </summary>
    /// <param name="engine">The engine.</param>
    public SluiceHandler(SluiceEngine engine)
        : this(engine ?? throw new ArgumentNullException(nameof(engine)), ownsEngine: false)
    {
    }

    private SluiceHandler(SluiceEngine engine, bool ownsEngine)
    {
        _engine = engine;
        _ownsEngine = ownsEngine;
        _send = new SluiceSendOptions { Send = (message, token) => base.SendAsync(message, token) };
    }

    /// <summary>The gate this handler's requests wait at, for inspecting partitions.</summary>
    public SluiceGate Gate => _engine.Gate;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var captured = await _engine.CaptureAsync(request, cancellationToken).ConfigureAwait(false);
        var result = await _engine.SendAsync(captured, SendOptionsFor(request), cancellationToken).ConfigureAwait(false);
        if (result.Message is { } response)
        {
            return response;
        }

        cancellationToken.ThrowIfCancellationRequested();
        string message = $"Sluice: {result.Status} ({result.Reason}): {result.Error}";
        throw result.Reason == JobEndReason.DeadlineExceeded
            ? new TaskCanceledException(message, new TimeoutException(message))
            : new HttpRequestException(message, result.Exception);
    }

    /// <summary>The shared send options, or a copy naming the tenant and priority the request's options set.</summary>
    private SluiceSendOptions SendOptionsFor(HttpRequestMessage request)
    {
        bool hasTenant = request.Options.TryGetValue(SluiceRequestOptions.Tenant, out var tenant);
        bool hasPriority = request.Options.TryGetValue(SluiceRequestOptions.Priority, out int priority);
        return hasTenant || hasPriority
            ? new SluiceSendOptions { Send = _send.Send, Tenant = tenant, Priority = priority }
            : _send;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsEngine)
        {
            _engine.Dispose();
        }

        base.Dispose(disposing);
    }
}
