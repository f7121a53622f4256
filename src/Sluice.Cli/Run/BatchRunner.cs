using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Sluice.Cli.Common;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Providers;

namespace Sluice.Cli.Run;

/// <summary>
/// Sends a validated batch file's unfinished requests through one gate and dispatcher, each try done by the shared
/// <see cref="ProviderAttempt"/>, and journals every final outcome. Jobs that did not complete (quota or credential
/// stop, interruption) are not journalled: they stay pending for the next run.
/// </summary>
internal sealed class BatchRunner : IDisposable
{
    private readonly RunSettings _settings;
    private readonly RunJournal _journal;
    private readonly RunCounters _counters;
    private readonly HttpMessageInvoker _http;
    private readonly SluiceGate _gate;
    private readonly SluiceDispatcher _dispatcher;
    private readonly ProviderAttempt _attempt;
    private readonly ProviderProfile _profile;

    // Line numbers of the jobs taken from the file and not yet ended (at most MaxInProgress), for ordering results.
    private readonly ConcurrentDictionary<string, int> _inProgress = new(StringComparer.Ordinal);
    private int _firstFailureLine = int.MaxValue;

    public BatchRunner(RunSettings settings, RunJournal journal, RunCounters counters, TimeProvider time, Random random, HttpMessageHandler? handler = null)
    {
        _settings = settings;
        _journal = journal;
        _counters = counters;
        _http = new HttpMessageInvoker(handler ?? new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        });
        _profile = ProviderProfile.For(settings.Provider);
        _gate = SluiceGate.Create(
            new GateOptions
            {
                DefaultLimits = settings.Budgets.ApplyTo(new PartitionLimits
                {
                    MaxConcurrency = settings.Concurrency,
                    AdaptiveConcurrency = settings.AdaptiveConcurrency,
                    RequestsPerWindow = settings.RequestsPerMinute,
                    TokensPerWindow = settings.TokensPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    MaxQueueLength = 1_000_000,
                    AwaitFirstHeaders = _profile.AwaitsFirstHeaders,
                }),
            },
            time);
        _dispatcher = SluiceDispatcher.Create(
            _gate,
            new DispatcherOptions { MaxAttempts = settings.MaxAttempts, AttemptTimeout = settings.Timeout },
            loggerFactory: null,
            random);
        _attempt = new ProviderAttempt((message, token) => _http.SendAsync(message, token), _profile, time);
    }

    /// <summary>The first reason a job did not complete (quota, credentials, parked, interrupted), for the summary.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The job earliest in the file that failed for good this run, described for the summary.</summary>
    public string? FirstFailure { get; private set; }

    /// <summary>Jobs that ended without completing this run.</summary>
    public int NotCompleted { get; private set; }

    /// <summary>The limits in force now (configured, or learned from headers and answers), summed over the partitions.</summary>
    public RunLimits Limits() => RunLimits.Of(_gate.Partitions.Select(p => p.GetSnapshot()));

    /// <summary>Graceful stop: nothing new starts, attempts in flight finish and are journalled.</summary>
    public void Drain() => _dispatcher.Drain();

    private const int MaxLinesInProgress = 5_000;

    /// <summary>Runs every request not in <paramref name="finished"/> until each ends or the run stops.</summary>
    public async Task RunAsync(IReadOnlySet<string> finished, CancellationToken cancellationToken)
    {
        var requests = RequestFile.ReadAsync(_settings.InputPath, finished, cancellationToken);
        // Lines read ahead and not yet ended: enough for the Little floor to put thousands in flight when answers take
        // seconds (3,000 a minute of 8 s answers want about 600), still a bound on the request bodies held in memory.
        var stream = new DispatchStreamOptions { MaxInProgress = Math.Max(MaxLinesInProgress, _settings.Concurrency * 4) };
        await foreach (var result in _dispatcher.RunAllAsync(requests, Describe, AttemptAsync, stream, cancellationToken).ConfigureAwait(false))
        {
            if (_journal.Fault is not null)
            {
                // Outcomes that cannot be made durable must not be counted as done: stop starting work.
                _dispatcher.Drain();
            }

            var answer = result.Value;
            _counters.Retried(Math.Max(0, result.Attempts - 1));
            _inProgress.TryRemove(result.Job.Id, out int lineNumber);
            var request = (CustomId: result.Job.Id, LineNumber: lineNumber);
            switch (result.Status)
            {
                case JobStatus.Succeeded:
                    _ = _journal.RecordAsync(request.CustomId, request.LineNumber, succeeded: true, OutputLine.Create(RecordId(), request.CustomId, answer, error: null));
                    break;
                case JobStatus.Failed:
                    (string Code, string Message) error = (ErrorCode(result, answer), result.Error ?? result.Reason.ToString());
                    if (request.LineNumber < _firstFailureLine)
                    {
                        _firstFailureLine = request.LineNumber;
                        FirstFailure = $"{request.CustomId} (line {request.LineNumber}): {error.Message}";
                    }

                    _ = _journal.RecordAsync(request.CustomId, request.LineNumber, succeeded: false, OutputLine.Create(RecordId(), request.CustomId, answer, error));
                    break;
                default:
                    NotCompleted++;
                    if (StopReason is null || result.Reason is JobEndReason.QuotaExhausted or JobEndReason.AuthFailed or JobEndReason.Parked)
                    {
                        StopReason = Describe(result);
                    }

                    break;
            }
        }

        await _journal.FlushAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        _dispatcher.Dispose();
        _gate.Dispose();
        _http.Dispose();
    }

    private SluiceJob Describe(RequestLine request)
    {
        _inProgress[request.CustomId] = request.LineNumber;
        return Job(request);
    }

    private SluiceJob Job(RequestLine request)
    {
        string? model = TokenEstimator.ReadModel(request.Body);
        bool loading = TokenEncodings.ForModel(model) is var encoding && encoding != TokenEncoding.Approximate && TokenEncodings.LoadedTokenizer(encoding) is null;
        var estimate = TokenEstimator.Shared.Estimate(request.Url, request.Body, waitForTokenizer: loading && TokenBudgetKnown());
        return new SluiceJob(request.CustomId, "run|" + (model ?? "default"))
        {
            EstimatedTokens = estimate.Total,
            EstimatedInputTokens = estimate.Prompt,
            EstimatedOutputTokens = estimate.OutputCap,
        };
    }

    /// <summary>
    /// Whether a token budget binds yet: given with --tpm or another token budget, or stated by the provider's headers.
    /// Until one does, the first requests are estimated at the four-characters-a-token floor while the tokenizer loads
    /// (TokenizerWarmUp) instead of waiting for it: their reservations are settled with the answers' usage, and no
    /// budget is charged by them meanwhile. Once a budget binds, every estimate waits for the exact count.
    /// </summary>
    private bool TokenBudgetKnown() =>
        _settings.TokensPerMinute is not null || _settings.Budgets.InputTokensPerMinute is not null || _settings.Budgets.OutputTokensPerMinute is not null
        || _settings.Budgets.TokensPerDay is not null || _gate.Partitions.Any(partition => partition.GetSnapshot() is var snapshot && (snapshot.TokensPerMinute is not null || snapshot.Budgets.Count > 0));

    private async ValueTask<AttemptOutcome<ProviderAnswer>> AttemptAsync(RequestLine request, AttemptContext context, CancellationToken cancellationToken)
    {
        _counters.Attempted();
        var outcome = await _attempt.SendAsync(() => CreateMessage(request), isStreaming: false, context, refreshCredential: null, onStop: null, cancellationToken).ConfigureAwait(false);
        ProviderAnswer? answer = null;
        if (outcome.Value is { } response)
        {
            using (response)
            {
                byte[] body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                answer = new ProviderAnswer((int)response.StatusCode, RequestId(response.Headers), body);
            }
        }

        if (outcome.Kind == AttemptOutcomeKind.Throttled)
        {
            _counters.Throttled();
        }
        else if (outcome.Kind == AttemptOutcomeKind.Success && answer is not null && UsageReader.ReadTotal(answer.Body) is { } used)
        {
            _counters.Used(used);
        }

        return new AttemptOutcome<ProviderAnswer>
        {
            Kind = outcome.Kind,
            Value = answer,
            Error = outcome.Error,
            RetryAfter = outcome.RetryAfter,
            ActualTokens = outcome.ActualTokens,
            ActualInputTokens = outcome.ActualInputTokens,
            ActualOutputTokens = outcome.ActualOutputTokens,
            Exception = outcome.Exception,
        };
    }

    private HttpRequestMessage CreateMessage(RequestLine request)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, BaseUrl.Join(_settings.BaseUrl, request.Url))
        {
            Content = new ByteArrayContent(request.Body),
        };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        message.Headers.TryAddWithoutValidation("X-Sluice-Custom-Id", request.CustomId);
        if (_settings.ApiKey is { } key)
        {
            ProviderCredential.Add(message, _settings.Provider, key);
        }

        return message;
    }

    private static string? RequestId(HttpResponseHeaders headers) =>
        headers.TryGetValues("x-request-id", out var ids) || headers.TryGetValues("request-id", out ids) ? ids.FirstOrDefault() : null;

    // The Batch API's own line ids look like this; stored in the journal, so a rebuild keeps them.
    private static string RecordId() => "batch_req_" + Guid.NewGuid().ToString("N")[..24];

    private static string ErrorCode(JobResult<ProviderAnswer> result, ProviderAnswer? answer) =>
        OutputLine.ProviderCode(answer?.Body) ?? result.Reason switch
        {
            JobEndReason.AttemptsExhausted => "attempts_exhausted",
            JobEndReason.DeadlineExceeded => "deadline_exceeded",
            _ when answer is not null => $"http_{answer.StatusCode}",
            _ => "request_failed",
        };

    private static string Describe(JobResult<ProviderAnswer> result) => result.Reason switch
    {
        JobEndReason.QuotaExhausted => $"the provider's quota is used up: {result.Error}",
        JobEndReason.AuthFailed => $"the provider rejected the API key: {result.Error}",
        JobEndReason.Parked => $"the provider asked for a pause longer than a run should sleep: {result.Error}",
        JobEndReason.PartitionStopped => $"requests stopped: {result.Error}",
        JobEndReason.Drained or JobEndReason.Canceled => "interrupted",
        _ => $"{result.Reason}: {result.Error}",
    };
}
