namespace Sluice.Dispatch;

/// <summary>The running record of one job: its counters and the last thing that happened to it.</summary>
internal sealed class JobRun<T>(SluiceJob job, long started, TimeSpan? deadline)
{
    public SluiceJob Job { get; } = job;

    public long Started { get; } = started;

    public TimeSpan? Deadline { get; } = deadline;

    /// <summary>Attempts that count against the limit: every outcome but a throttle.</summary>
    public int Attempts { get; private set; }

    public int Throttles { get; private set; }

    /// <summary>True once a try of this job was cut by a learned timeout: its later tries get the configured one.</summary>
    public bool LearnedTimeoutCut { get; set; }

    private AttemptOutcome<T> _last;

    public void Record(AttemptOutcome<T> outcome)
    {
        _last = outcome;
        if (outcome.Kind == AttemptOutcomeKind.Throttled)
        {
            Throttles++;
        }
        else if (!outcome.SpendCapReached)
        {
            // A try a spend cap refused was never sent: it used no attempt.
            Attempts++;
        }
    }

    /// <summary>Counts a hedge: a second try beside a slow one, an attempt like any other, whose outcome may be discarded.</summary>
    public void CountHedge() => Attempts++;

    public JobResult<T> ToResult(JobStatus status, JobEndReason reason, string? error, TimeSpan elapsed) => new()
    {
        Job = Job,
        Status = status,
        Reason = reason,
        Value = _last.Value,
        Error = status == JobStatus.Succeeded ? null : Describe(reason, error),
        Exception = status == JobStatus.Succeeded ? null : _last.Exception,
        Attempts = Attempts,
        Throttles = Throttles,
        Elapsed = elapsed,
    };

    // An interruption names itself, and what the last try said (a 429, a 500) so a log or a results line keeps it.
    private string? Describe(JobEndReason reason, string? error) =>
        error is null ? _last.Error
        : (reason is JobEndReason.Canceled or JobEndReason.DeadlineExceeded or JobEndReason.Drained) && _last.Error is { } last ? $"{error}; the last try: {last}"
        : error;
}
