using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Options;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Engine;

/// <summary>
/// The one request pipeline every face of Sluice calls — <see cref="SluiceHandler"/>, <c>sluice run</c> and
/// <c>sluice proxy</c> — and from which a user can build their own: capture a request once, name its partition, wait at
/// the partition's gate, send, classify the answer, settle the token reservation, retry by outcome class, release every
/// answer but the final one, and answer a stopped partition's callers with the provider's own stop answer.
/// </summary>
/// <remarks>
/// One engine holds one gate and one dispatcher, so every request sent through it shares the budgets of its
/// partition, whichever face or thread sends it. Partitions are named <c>scope|key:fingerprint|model group</c>: the
/// scope is the upstream (its host unless the face names it), the credential appears only as a short hash, and the
/// model group picks the partition's limits from <see cref="SluiceHandlerOptions.Partitions"/>.
/// </remarks>
public sealed partial class SluiceEngine : IDisposable
{
    private readonly SluiceHandlerOptions _options;
    private readonly ProviderProfile _profile;
    private readonly ProviderAttempt _attempt;
    private readonly StopAnswers _stopAnswers = new();
    private readonly CredentialRefresher? _refresher;
    private readonly Lazy<HttpMessageInvoker> _transport;
    private readonly HttpMessageHandler? _givenTransport;
    private readonly Dictionary<string, PartitionLimits> _byGroup;
    private readonly PartitionLimits _defaultLimits;
    private long _requestNumber;

    /// <summary>Makes an engine with its own gate and dispatcher.</summary>
    /// <param name="options">Provider, budgets and retries; validated (every error at once) and copied.</param>
    /// <param name="transport">
    /// What sends each try; the engine's standard connection pool (<see cref="CreateTransport"/>) when null. The engine
    /// disposes it.
    /// </param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="loggerFactory">Where logs go; nowhere when null.</param>
    /// <param name="meterFactory">Where metrics go; a private <c>Sluice</c> meter when null.</param>
    /// <param name="random">The source of backoff and pause jitter, so a run can be repeated; a new unseeded one when null.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">Some options are invalid.</exception>
    public SluiceEngine(
        SluiceHandlerOptions options,
        HttpMessageHandler? transport = null,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null,
        Random? random = null)
    {
        OptionsGuard.ThrowIfInvalid(new SluiceHandlerOptionsValidator(), options, nameof(options));
        _options = options;
        var time = timeProvider ?? TimeProvider.System;
        _profile = ProviderProfile.For(options.Provider);
        _defaultLimits = Adapt(options.DefaultLimits);
        _byGroup = options.Partitions.ToDictionary(p => p.Key, p => Adapt(p.Value), StringComparer.OrdinalIgnoreCase);
        Gate = (options.GateFactory ?? SluiceGate.Create)(
            new GateOptions
            {
                DefaultLimits = _defaultLimits,
                LimitsSelector = key => _byGroup.GetValueOrDefault(PartitionKeys.ModelGroupOf(key)),
                MaxPartitions = options.MaxPartitions,
                PartitionIdleTimeout = options.PartitionIdleTimeout,
            },
            time,
            loggerFactory,
            meterFactory);
        Dispatcher = SluiceDispatcher.Create(Gate, options.Retry, loggerFactory, random ?? new Random());
        Gate.PartitionEvicted += _stopAnswers.Forget;
        _spend = new SpendBook(options.Prices ?? PriceTable.Default, options.Provider, options.MaxSpendPerDay, options.MaxPartitions, time, (ILogger?)loggerFactory?.CreateLogger("Sluice.Spend") ?? NullLogger.Instance, meterFactory);
        Gate.PartitionEvicted += _spend.Forget;
        _attempt = new ProviderAttempt(_profile, time);
        _refresher = options.RefreshCredentials is { } hook ? new CredentialRefresher(hook) : null;
        // Made on first use: a handler's engine sends through the handler's inner handler and never needs a pool of its own.
        _givenTransport = transport;
        _transport = new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(transport ?? CreateTransport()));
    }

    /// <summary>The provider whose conventions the engine follows.</summary>
    public ProviderKind Provider => _options.Provider;

    /// <summary>The gate every request waits at, for inspecting partitions.</summary>
    public SluiceGate Gate { get; }

    /// <summary>Stop answers held now, one at most per partition the gate holds; for tests.</summary>
    internal int StopAnswersHeld => _stopAnswers.Count;

    /// <summary>The dispatcher that runs each request as a job: retries, hedges, drains.</summary>
    public SluiceDispatcher Dispatcher { get; }

    /// <summary>
    /// The transport every face uses unless it brings its own: a pooled <see cref="SocketsHttpHandler"/> that
    /// decompresses answers (they are read for usage, errors and stream ends), follows no redirect and keeps no cookie
    /// (both are the client's business, never shared between callers), and renews connections every five minutes so
    /// DNS changes are seen.
    /// </summary>
    /// <returns>A new handler; the caller owns it.</returns>
    public static SocketsHttpHandler CreateTransport() => new()
    {
        AutomaticDecompression = DecompressionMethods.All,
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>
    /// Starts loading, on the thread pool, the tokenizer a model's estimates need, so that it loads while a face is
    /// still starting (validating a file, opening a journal) instead of in front of the first request. Loading a
    /// vocabulary is the largest single cost of starting a small run; estimates are the same either way.
    /// </summary>
    /// <param name="model">The model; nothing is loaded for one estimated by length (Anthropic's, unknown ones).</param>
    public static void WarmUpTokenizer(string? model)
    {
        var encoding = TokenEncodings.ForModel(model);
        if (encoding != TokenEncoding.Approximate)
        {
            _ = Task.Run(() => TokenEncodings.Tokenizer(encoding));
        }
    }

    /// <summary>The limits a partition runs under: its model group's, else the default ones.</summary>
    /// <param name="partition">A partition key, such as <see cref="SluiceRequest.Partition"/>.</param>
    /// <returns>The limits; do not change them.</returns>
    public PartitionLimits LimitsFor(string partition)
    {
        ArgumentNullException.ThrowIfNull(partition);
        return _byGroup.GetValueOrDefault(PartitionKeys.ModelGroupOf(partition)) ?? _defaultLimits;
    }

    /// <summary>Captures a request whose body is still in its message, reading the body once.</summary>
    /// <param name="message">The request; its body is read, its headers are read again at each try.</param>
    /// <param name="cancellationToken">Cancels reading the body.</param>
    /// <returns>The captured request, with the default id, scope and model group.</returns>
    public async ValueTask<SluiceRequest> CaptureAsync(HttpRequestMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        byte[]? body = message.Content is null ? null : await message.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return Capture(message, body);
    }

    /// <summary>Captures a request whose body the caller already holds, so it is never copied from a stream.</summary>
    /// <param name="message">
    /// Method, address and headers (and, in its content, the content headers such as <c>Content-Type</c>); read again
    /// at each try, so a credential refreshed on it is used by the next one.
    /// </param>
    /// <param name="body">The body; <see langword="null"/> for a request without one.</param>
    /// <param name="id">
    /// The request's id (a batch line's <c>custom_id</c>); when null, the message's <c>X-Sluice-Custom-Id</c> or
    /// <c>X-Request-Id</c>, else a number.
    /// </param>
    /// <param name="scope">The partition's upstream name; the message's host and port when null.</param>
    /// <param name="modelGroup">The partition's model group (a key of <see cref="SluiceHandlerOptions.Partitions"/>); the body's model when null.</param>
    /// <returns>The captured request.</returns>
    public SluiceRequest Capture(HttpRequestMessage message, byte[]? body, string? id = null, string? scope = null, string? modelGroup = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        _refresher?.Apply(message);
        string path = message.RequestUri?.IsAbsoluteUri == true ? message.RequestUri.AbsolutePath : message.RequestUri?.OriginalString ?? "/";
        var facts = body is null ? new RequestFacts(null, false, [], false) : RequestFacts.Read(path, body);
        string partition = PartitionKeys.For(scope ?? PartitionKeys.DefaultScope(message), PartitionKeys.Fingerprint(message), modelGroup ?? facts.Model);
        // The estimate is made when the gate or a price first asks for it, by then knowing whether a budget binds.
        Func<TokenEstimate> estimate = body is null
            ? static () => default
            : () => RequestFacts.EstimateOf(path, facts.Body, model => WaitsForTokenizer(model, partition));
        return new SluiceRequest(message, body, id ?? IdOf(message), partition, facts, estimate);
    }

    /// <summary>
    /// Sends a request as one job: waits at its partition's gate, sends, and retries by outcome class until it
    /// succeeds, fails for good, or the partition stops. Every try's answer but the final one is released.
    /// </summary>
    /// <param name="request">The captured request.</param>
    /// <param name="options">The face's transport and what it watches of each try; the engine's own transport when null.</param>
    /// <param name="cancellationToken">Gives up: a waiter leaves the queue, a try in flight is cancelled.</param>
    /// <returns>How the request ended; its <see cref="SluiceResponse.Message"/> is the caller's to dispose.</returns>
    public Task<SluiceResponse> SendAsync(SluiceRequest request, SluiceSendOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return options?.Cache is { } cache && request.HasContent
            ? SendThroughCacheAsync(cache, request, options, cancellationToken)
            : SendUncachedAsync(request, options, cancellationToken);
    }

    private async Task<SluiceResponse> SendUncachedAsync(SluiceRequest request, SluiceSendOptions? options, CancellationToken cancellationToken)
    {
        var answers = new TriedAnswers();
        var spend = BeginSpend(request);
        var result = await Dispatcher.RunAsync(
            request.Job(options),
            (attempt, token) => AttemptAsync(request, options, answers, spend, attempt, token),
            cancellationToken).ConfigureAwait(false);
        return Finish(request, answers, spend, result);
    }

    /// <summary>
    /// Sends a stream of requests, each as one job, and yields each as it ends (not in order), taking more from
    /// <paramref name="requests"/> only as there is room: at most <paramref name="maxInProgress"/> are held at once, so
    /// a file of a million lines is read as it is sent.
    /// </summary>
    /// <param name="requests">The requests, captured as they are read.</param>
    /// <param name="maxInProgress">The most requests taken and not yet ended.</param>
    /// <param name="options">The face's transport and what it watches of each try.</param>
    /// <param name="cancellationToken">Gives up on every request not yet ended.</param>
    /// <returns>Every request's end, exactly once each.</returns>
    public async IAsyncEnumerable<SluiceResponse> SendAllAsync(
        IAsyncEnumerable<SluiceRequest> requests,
        int maxInProgress,
        SluiceSendOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInProgress, 1);
        var ends = options?.Cache is { } cache
            ? SendAllThroughCacheAsync(cache, requests, maxInProgress, options, cancellationToken)
            : SendAllUncachedAsync(requests, maxInProgress, options, cancellationToken);
        await foreach (var end in ends.ConfigureAwait(false))
        {
            yield return end;
        }
    }

    private async IAsyncEnumerable<SluiceResponse> SendAllUncachedAsync(
        IAsyncEnumerable<SluiceRequest> requests,
        int maxInProgress,
        SluiceSendOptions? options,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sending = new ConcurrentDictionary<SluiceJob, (SluiceRequest Request, TriedAnswers Answers, JobSpend Spend)>(ReferenceEqualityComparer.Instance);
        await foreach (var result in Dispatcher.RunAllAsync(
            requests,
            request =>
            {
                var job = request.Job(options);
                sending[job] = (request, new TriedAnswers(), BeginSpend(request));
                return job;
            },
            (request, attempt, token) => AttemptAsync(request, options, sending[attempt.Job].Answers, sending[attempt.Job].Spend, attempt, token),
            new DispatchStreamOptions { MaxInProgress = maxInProgress },
            cancellationToken).ConfigureAwait(false))
        {
            sending.TryRemove(result.Job, out var sent);
            yield return Finish(sent.Request, sent.Answers, sent.Spend, result);
        }
    }

    /// <summary>
    /// Graceful stop: nothing new starts (waiting requests end <see cref="JobEndReason.Drained"/>) while tries in
    /// flight finish.
    /// </summary>
    public void Drain() => Dispatcher.Drain();

    /// <inheritdoc />
    public void Dispose()
    {
        _refresher?.Dispose();
        Dispatcher.Dispose();
        Gate.Dispose();
        _spend.Dispose();
        if (_transport.IsValueCreated)
        {
            _transport.Value.Dispose();
        }
        else
        {
            // A transport the caller handed over is the engine's to dispose even if no request ever went through it.
            _givenTransport?.Dispose();
        }
    }

    private async ValueTask<AttemptOutcome<ProviderReply>> AttemptAsync(
        SluiceRequest request,
        SluiceSendOptions? options,
        TriedAnswers answers,
        JobSpend jobSpend,
        AttemptContext attempt,
        CancellationToken cancellationToken)
    {
        // Money first: a try no cap has room for is never sent, and ends its job.
        if (ReserveSpend(jobSpend, request, options, out var spend) is { } refused)
        {
            return refused;
        }

        options?.AttemptStarting?.Invoke();

        // A try cut short (its timeout, the caller, the deadline) throws rather than answering: it ended all the same,
        // and a face counting waiting time (the proxy's --max-wait) must hear so, or the wait after it goes uncounted.
        var kind = AttemptOutcomeKind.Transient;
        try
        {
            bool requestsOwn = false;
            var outcome = await _attempt.SendAsync(
                options?.Send ?? _transport.Value.SendAsync,
                request,
                attempt,
                _refresher is { } refresher ? token => refresher.RefreshAsync(request.Template, PartitionKeys.Fingerprint(request.Template), token) : null,
                (response, body) =>
                {
                    // The face says whether this answer's cause is the partition's (its key, its quota) or the request's own.
                    if (options?.StopsPartition is { } stops && !stops(response))
                    {
                        requestsOwn = true;
                        return;
                    }

                    _stopAnswers.Remember(attempt.Job.Partition, response, body);
                },
                StreamSpend(spend),
                cancellationToken).ConfigureAwait(false);
            SettleSpend(spend, outcome);
            if (requestsOwn)
            {
                // This caller's answer alone: it fails for good and stops nobody else.
                outcome = outcome with { Kind = AttemptOutcomeKind.Permanent };
            }

            answers.Add(outcome.Value?.Message);
            kind = outcome.Kind;
            return outcome;
        }
        catch
        {
            // Cut short before its answer was read: the provider may have done, and billed, the work.
            spend.KeepWorstCase();
            throw;
        }
        finally
        {
            options?.AttemptEnded?.Invoke(kind);
        }
    }

    private SluiceResponse Finish(SluiceRequest request, TriedAnswers answers, JobSpend spend, JobResult<ProviderReply> result)
    {
        // Only the job's final answer may reach the caller; every other try's answer (an earlier failure, a hedge that
        // lost, one that came back after its try was abandoned) is let go here or as soon as it arrives. A job that was
        // interrupted (cancelled, out of time, drained) ends with the interruption, not with an earlier try's answer:
        // that answer is released with the rest, so no caller relays a superseded 429 or a response already let go.
        var message = Interrupted(result.Reason) ? null : result.Value?.Message;
        answers.ReleaseAllBut(message);
        if (result.Reason is JobEndReason.AuthFailed or JobEndReason.QuotaExhausted)
        {
            // The request that stopped its partition ties its answer to that stop, and to no later one.
            _stopAnswers.Bind(request.Partition, StopReasonOf(request.Partition));
        }

        if (result.Reason == JobEndReason.PartitionStopped && _stopAnswers.For(request.Partition, result.Error, request.Template) is { } stopAnswer)
        {
            message?.Dispose();
            message = stopAnswer;
        }

        return new SluiceResponse(request, result, message, spend);
    }

    /// <summary>Why the partition is stopped now, if it is held and stopped.</summary>
    private string? StopReasonOf(string partition)
    {
        foreach (var held in Gate.Partitions)
        {
            if (string.Equals(held.Key, partition, StringComparison.Ordinal))
            {
                return held.GetSnapshot().StopReason;
            }
        }

        return null;
    }

    private static bool Interrupted(JobEndReason reason) =>
        reason is JobEndReason.Canceled or JobEndReason.DeadlineExceeded or JobEndReason.Drained;

    /// <summary>
    /// Whether an estimate waits for the model's exact tokenizer. While it loads, a request is estimated at the
    /// four-characters-a-token floor unless a token budget binds its partition (configured, or stated by the
    /// provider): its reservation is settled with the answer's usage, and no budget is charged by it meanwhile. Once a
    /// budget binds, every estimate waits for the exact count.
    /// </summary>
    private bool WaitsForTokenizer(string? model, string partition)
    {
        var encoding = TokenEncodings.ForModel(model);
        if (encoding == TokenEncoding.Approximate || TokenEncodings.LoadedTokenizer(encoding) is not null)
        {
            return true;
        }

        var limits = LimitsFor(partition);
        if (limits.TokensPerWindow is not null || limits.InputTokensPerWindow is not null || limits.OutputTokensPerWindow is not null || limits.TokensPerDay is not null)
        {
            return true;
        }

        return Gate.Partitions.Any(p => p.Key == partition && p.GetSnapshot() is var snapshot && (snapshot.TokensPerMinute is not null || snapshot.Budgets.Count > 0));
    }

    private string IdOf(HttpRequestMessage message) =>
        message.Headers.TryGetValues("X-Sluice-Custom-Id", out var ids) || message.Headers.TryGetValues("X-Request-Id", out ids)
            ? ids.First()
            : $"request-{Interlocked.Increment(ref _requestNumber)}";

    private PartitionLimits Adapt(PartitionLimits limits)
    {
        var copy = limits.Clone();
        copy.AdaptiveConcurrency |= _options.AdaptiveConcurrency;
        copy.AwaitFirstHeaders = _profile.AwaitsFirstHeaders;
        return copy;
    }
}
