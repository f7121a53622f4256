namespace Sluice.Dispatch;

/// <summary>The one final result of a job.</summary>
/// <typeparam name="T">The attempt's result type.</typeparam>
public sealed record JobResult<T>
{
    /// <summary>The job.</summary>
    public required SluiceJob Job { get; init; }

    /// <summary>How it ended.</summary>
    public required JobStatus Status { get; init; }

    /// <summary>Why it ended so.</summary>
    public required JobEndReason Reason { get; init; }

    /// <summary>The result on success; for a failure, the last response when there was one.</summary>
    public T? Value { get; init; }

    /// <summary>What went wrong, for people; <see langword="null"/> on success.</summary>
    public string? Error { get; init; }

    /// <summary>The exception behind the last failure, when there was one.</summary>
    public Exception? Exception { get; init; }

    /// <summary>Attempts that counted against the attempt limit (throttled tries do not).</summary>
    public int Attempts { get; init; }

    /// <summary>Tries the provider throttled.</summary>
    public int Throttles { get; init; }

    /// <summary>Time from the job's start to its end, waits included.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>True when <see cref="Status"/> is <see cref="JobStatus.Succeeded"/>.</summary>
    public bool IsSuccess => Status == JobStatus.Succeeded;
}
