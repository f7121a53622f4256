using Sluice.Dispatch;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Engine;

/// <summary>
/// How a request sent through a <see cref="SluiceEngine"/> ended: the provider's final answer (or, for a stopped
/// partition, the answer that stopped it), how the job ended, and what the engine learned reading the answer, so a
/// face never reads it again.
/// </summary>
public sealed class SluiceResponse
{
    private readonly JobSpend? _spend;

    internal SluiceResponse(SluiceRequest request, JobResult<ProviderReply> result, HttpResponseMessage? message, JobSpend? spend = null)
    {
        _spend = spend;
        Request = request;
        Message = message;
        Status = result.Status;
        Reason = result.Reason;
        Error = result.Error;
        Exception = result.Exception;
        Attempts = result.Attempts;
        Throttles = result.Throttles;
        Elapsed = result.Elapsed;
        ProviderCode = ReferenceEquals(message, result.Value?.Message) ? result.Value?.ProviderCode : null;
        Usage = result.Value?.Usage ?? default;
    }

    /// <summary>A request answered from the cache: nothing was sent, nothing waited at the gate.</summary>
    internal SluiceResponse(SluiceRequest request, HttpResponseMessage message, TokenUsage usage, TimeSpan elapsed)
    {
        Request = request;
        Message = message;
        Status = JobStatus.Succeeded;
        Reason = JobEndReason.None;
        Elapsed = elapsed;
        Usage = usage;
        FromCache = true;
    }

    /// <summary>The request.</summary>
    public SluiceRequest Request { get; }

    /// <summary>
    /// The provider's final answer, the caller's to dispose: on success its answer (a 2xx stream unread, anything else
    /// buffered); on failure its last answer when there was one; for a partition stopped by an earlier answer (quota,
    /// credential), a copy of that answer. <see langword="null"/> when no answer came (a connection failure, a full
    /// queue) and whenever the request was interrupted (<see cref="JobEndReason.Canceled"/>,
    /// <see cref="JobEndReason.DeadlineExceeded"/>, <see cref="JobEndReason.Drained"/>): an earlier try's answer is
    /// released then, never handed on.
    /// </summary>
    public HttpResponseMessage? Message { get; }

    /// <summary>How the job ended.</summary>
    public JobStatus Status { get; }

    /// <summary>Why it ended so.</summary>
    public JobEndReason Reason { get; }

    /// <summary>True when the job succeeded.</summary>
    public bool IsSuccess => Status == JobStatus.Succeeded;

    /// <summary>What went wrong, for people (credentials redacted); <see langword="null"/> on success.</summary>
    public string? Error { get; }

    /// <summary>The exception behind the last failure, when there was one.</summary>
    public Exception? Exception { get; }

    /// <summary>Attempts that counted against the attempt limit (throttled tries do not).</summary>
    public int Attempts { get; }

    /// <summary>Tries the provider throttled.</summary>
    public int Throttles { get; }

    /// <summary>Time from the job's start to its end, waits included.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The provider's own name for the final answer's error (<c>insufficient_quota</c>), when it gave one.</summary>
    public string? ProviderCode { get; }

    /// <summary>The tokens the final answer reported; empty for a stream (settled as it is read) or a failure.</summary>
    public TokenUsage Usage { get; }

    /// <summary>
    /// True when the answer came from <see cref="SluiceSendOptions.Cache"/> without sending: <see cref="Attempts"/> is
    /// 0, <see cref="Usage"/> is what the answer reported when it was paid for, and the message carries
    /// <c>x-sluice-cache: hit</c>.
    /// </summary>
    public bool FromCache { get; }

    /// <summary>
    /// What the request cost at the provider's list price (<see cref="SluiceHandlerOptions.Prices"/>), in US dollars:
    /// every try's cost summed — a try answered with usage at its real cost, one the provider refused or failed at
    /// nothing, one cut off at its worst case. A stream's try counts at its worst case until its body has been read to
    /// the end. <see langword="null"/> when the model has no price; 0 for an answer that cost nothing (a cache hit).
    /// </summary>
    public decimal? Cost => _spend?.Cost;
}
