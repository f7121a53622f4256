using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Sluice.Caching;
using Sluice.Cli.Common;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Redis.Gate;
using Sluice.Spend;

namespace Sluice.Cli.Run;

/// <summary>
/// Sends a validated batch file's unfinished requests through one <see cref="SluiceEngine"/> — the same pipeline as
/// <see cref="SluiceHandler"/> and the proxy — and records every final outcome (in the journal, or in a batch shared
/// through Redis). Jobs that did not complete (quota or credential stop, interruption) are not recorded: they stay
/// pending for the next run. With <see cref="RunSettings.Redis"/>, the engine's gate is shared through Redis.
/// </summary>
internal sealed class BatchRunner : IDisposable
{
    private readonly RunSettings _settings;
    private readonly IRunOutcomes _journal;
    private readonly RunCounters _counters;
    private readonly SluiceEngine _engine;
    private readonly SluiceSendOptions _send;

    // Line numbers of the jobs taken from the file and not yet ended (at most MaxInProgress), for ordering results.
    private readonly ConcurrentDictionary<string, int> _inProgress = new(StringComparer.Ordinal);
    private int _firstFailureLine = int.MaxValue;

    private readonly SpendCap? _cap;
    private int _capReached;

    /// <summary>Makes a runner over its own engine.</summary>
    /// <param name="settings">The run's settings.</param>
    /// <param name="journal">Where final outcomes go.</param>
    /// <param name="counters">The run's live counts.</param>
    /// <param name="time">The clock.</param>
    /// <param name="random">Backoff jitter.</param>
    /// <param name="handler">The transport; the engine's own when null.</param>
    /// <param name="prices">The price table (the shipped one when null).</param>
    /// <param name="cap">The run's spend cap (<c>--max-spend</c>), reserved by every try; none when null.</param>
    /// <param name="cache">The response cache that answers requests already paid for; none when null.</param>
    public BatchRunner(
        RunSettings settings,
        IRunOutcomes journal,
        RunCounters counters,
        TimeProvider time,
        Random random,
        HttpMessageHandler? handler = null,
        PriceTable? prices = null,
        SpendCap? cap = null,
        ResponseCache? cache = null)
    {
        _cap = cap;
        _settings = settings;
        _journal = journal;
        _counters = counters;
        _engine = new SluiceEngine(
            new SluiceHandlerOptions
            {
                Provider = settings.Provider,
                DefaultLimits = settings.Budgets.ApplyTo(new PartitionLimits
                {
                    MaxConcurrency = settings.Concurrency,
                    AdaptiveConcurrency = settings.AdaptiveConcurrency,
                    RequestsPerWindow = settings.RequestsPerMinute,
                    TokensPerWindow = settings.TokensPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    MaxQueueLength = 1_000_000,
                }),
                AdaptiveConcurrency = settings.AdaptiveConcurrency,
                GateFactory = SharedGate(settings),
                Retry = new DispatcherOptions { MaxAttempts = settings.MaxAttempts, AttemptTimeout = settings.Timeout },
                Prices = prices,
            },
            handler,
            time,
            random: random);
        _send = new SluiceSendOptions
        {
            AttemptStarting = _counters.Attempted,
            AttemptEnded = kind =>
            {
                if (kind == AttemptOutcomeKind.Throttled)
                {
                    _counters.Throttled();
                }
            },
            SpendCaps = cap is null ? null : [cap],
            Cache = cache,
        };
    }

    /// <summary>The first reason a job did not complete (quota, credentials, parked, interrupted), for the summary.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The job earliest in the file that failed for good this run, described for the summary.</summary>
    public string? FirstFailure { get; private set; }

    /// <summary>The cap as it stood when it first refused a request (its spent and reserved then); null while it never did.</summary>
    public SpendCapSnapshot? CapStop { get; private set; }

    /// <summary>The models whose answers had no price this run, so their cost is not in the figures.</summary>
    public IReadOnlyCollection<string> Unpriced => [.. _unpriced.Keys];

    private readonly ConcurrentDictionary<string, byte> _unpriced = new(StringComparer.Ordinal);

    /// <summary>Jobs that ended without completing this run.</summary>
    public int NotCompleted { get; private set; }

    /// <summary>The limits in force now (configured, or learned from headers and answers), summed over the partitions.</summary>
    public RunLimits Limits() => RunLimits.Of(_engine.Gate.Partitions.Select(p => p.GetSnapshot()));

    /// <summary>Graceful stop: nothing new starts, attempts in flight finish and are journalled.</summary>
    public void Drain() => _engine.Drain();

    /// <summary>Whether the budgets are shared through Redis now; null when the gate is this process's own.</summary>
    public RedisGateStatus? Sharing() => RedisGate.StatusOf(_engine.Gate);

    private const int MaxLinesInProgress = 5_000;

    /// <summary>Runs every request not in <paramref name="finished"/> until each ends or the run stops.</summary>
    /// <param name="finished">The ids the journal holds.</param>
    /// <param name="validated">The input's validation, which the file must still match as it is read.</param>
    /// <param name="cancellationToken">Abandons the attempts in flight.</param>
    public Task RunAsync(IReadOnlySet<string> finished, RequestFile.Validation validated, CancellationToken cancellationToken)
    {
        var lines = RequestFile.ReadAsync(_settings.InputPath, validated, finished, cancellationToken);
        // Lines read ahead and not yet ended: enough for the Little floor to put thousands in flight when answers take
        // seconds (3,000 a minute of 8 s answers want about 600), still a bound on the request bodies held in memory.
        return RunAsync(lines, Math.Max(MaxLinesInProgress, _settings.Concurrency * 4), cancellationToken);
    }

    /// <summary>Runs every request of <paramref name="lines"/> until each ends or the run stops.</summary>
    /// <param name="lines">The requests, taken only as places free up.</param>
    /// <param name="maxInProgress">Requests taken and not yet ended, at most.</param>
    /// <param name="cancellationToken">Abandons the attempts in flight.</param>
    public async Task RunAsync(IAsyncEnumerable<RequestLine> lines, int maxInProgress, CancellationToken cancellationToken)
    {
        await foreach (var result in _engine.SendAllAsync(CaptureAll(lines, cancellationToken), maxInProgress, _send, cancellationToken).ConfigureAwait(false))
        {
            if (_journal.Fault is not null)
            {
                // Outcomes that cannot be made durable must not be counted as done: stop starting work.
                _engine.Drain();
            }

            var answer = await AnswerOf(result).ConfigureAwait(false);
            _counters.Retried(Math.Max(0, result.Attempts - 1));
            if (result.IsSuccess && !result.FromCache && result.Usage.Total is { } used)
            {
                _counters.Used(used);
            }

            // An answer from the cache cost nothing this time, whatever it cost when it was paid for.
            decimal? cost = result.FromCache ? 0m : result.Cost;
            var meta = new LineMeta(cost, result.FromCache);
            if (result.Status is JobStatus.Succeeded or JobStatus.Failed)
            {
                _counters.Paid(cost, result.FromCache, result.Usage.Total, result.FromCache ? _engine.CostOf(result.Request, result.Usage) : null);
                if (result.Cost is null && !result.FromCache && result.Request.Model is { } unpriced && _unpriced.Count < 100)
                {
                    _unpriced.TryAdd(unpriced, 0);
                }
            }

            _inProgress.TryRemove(result.Request.Id, out int lineNumber);
            var request = (CustomId: result.Request.Id, LineNumber: lineNumber);
            switch (result.Status)
            {
                case JobStatus.Succeeded:
                    _ = _journal.RecordAsync(request.CustomId, request.LineNumber, succeeded: true, OutputLine.Create(RecordId(), request.CustomId, answer, error: null, meta));
                    break;
                case JobStatus.Failed:
                    (string Code, string Message) error = (ErrorCode(result, answer), result.Error ?? result.Reason.ToString());
                    if (request.LineNumber < _firstFailureLine)
                    {
                        // Printed to the terminal: the provider's wording may hold line breaks or escape sequences.
                        _firstFailureLine = request.LineNumber;
                        FirstFailure = TerminalText.Escape($"{request.CustomId} (line {request.LineNumber}): {error.Message}");
                    }

                    _ = _journal.RecordAsync(request.CustomId, request.LineNumber, succeeded: false, OutputLine.Create(RecordId(), request.CustomId, answer, error, meta));
                    break;
                default:
                    NotCompleted++;
                    if (result.Reason == JobEndReason.SpendCapReached && Interlocked.Exchange(ref _capReached, 1) == 0)
                    {
                        // The first refusal stops the run taking lines: those in flight finish and are journalled; the
                        // refused one and the rest stay pending for a rerun with a higher cap.
                        CapStop = _cap?.GetSnapshot();
                        _engine.Drain();
                    }

                    if (StopReason is null || result.Reason is JobEndReason.QuotaExhausted or JobEndReason.AuthFailed or JobEndReason.Parked or JobEndReason.SpendCapReached)
                    {
                        StopReason = TerminalText.Escape(Describe(result));
                    }

                    break;
            }
        }

        await _journal.FlushAsync().ConfigureAwait(false);
    }

    public void Dispose() => _engine.Dispose();

    // Budgets shared through Redis when asked; SLUICE_REDIS_GATE=local keeps them in this process (for diagnosis).
    private static SluiceGateFactory? SharedGate(RunSettings settings) =>
        settings.Redis is { } redis && !RunEnvironment.LocalGate
            ? RedisGate.Factory(new RedisGateOptions { Configuration = redis })
            : null;

    /// <summary>Captures each line as it is taken from the file, noting its line number until it ends.</summary>
    private async IAsyncEnumerable<SluiceRequest> CaptureAll(IAsyncEnumerable<RequestLine> lines, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var line in lines.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            _inProgress[line.CustomId] = line.LineNumber;
            yield return _engine.Capture(Message(line), line.Body, line.CustomId);
        }
    }

    /// <summary>The line's method, address and headers; the body travels beside it, captured once.</summary>
    private HttpRequestMessage Message(RequestLine request)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(_settings.BaseUrl, request.Url))
        {
            Content = new ByteArrayContent([]),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        // The id itself goes to the engine beside the message; the header only tells the upstream (the mock's per-id
        // statistics, a user's logs), percent-encoded so that no id can break or add a header line.
        message.Headers.Add(CustomIdHeader.Name, CustomIdHeader.Encode(request.CustomId));
        if (_settings.ApiKey is { } key)
        {
            ProviderCredentials.Add(message, _settings.Provider, key);
        }

        return message;
    }

    /// <summary>The final answer's status, request id and body, for the results line; the response is let go.</summary>
    private static async ValueTask<ProviderAnswer?> AnswerOf(SluiceResponse result)
    {
        if (result.Message is not { } response)
        {
            return null;
        }

        using (response)
        {
            byte[] body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            return new ProviderAnswer((int)response.StatusCode, RequestId(response.Headers), body);
        }
    }

    private static string? RequestId(HttpResponseHeaders headers) =>
        headers.TryGetValues("x-request-id", out var ids) || headers.TryGetValues("request-id", out ids) ? ids.FirstOrDefault() : null;

    // The Batch API's own line ids look like this; stored in the journal, so a rebuild keeps them.
    private static string RecordId() => "batch_req_" + Guid.NewGuid().ToString("N")[..24];

    private static string ErrorCode(SluiceResponse result, ProviderAnswer? answer) =>
        result.ProviderCode ?? result.Reason switch
        {
            JobEndReason.AttemptsExhausted => "attempts_exhausted",
            JobEndReason.DeadlineExceeded => "deadline_exceeded",
            _ when answer is not null => $"http_{answer.StatusCode}",
            _ => "request_failed",
        };

    private static string Describe(SluiceResponse result) => result.Reason switch
    {
        JobEndReason.QuotaExhausted => $"the provider's quota is used up: {result.Error}",
        JobEndReason.AuthFailed => $"the provider rejected the API key: {result.Error}",
        JobEndReason.Parked => $"the provider asked for a pause longer than a run should sleep: {result.Error}",
        JobEndReason.PartitionStopped => $"requests stopped: {result.Error}",
        JobEndReason.SpendCapReached => $"the spend cap: {result.Error}",
        JobEndReason.Drained or JobEndReason.Canceled => "interrupted",
        _ => $"{result.Reason}: {result.Error}",
    };
}
