namespace Sluice.Dispatch;

/// <summary>How a job ended. Every job ends exactly once, in one of these.</summary>
public enum JobStatus
{
    /// <summary>The work succeeded.</summary>
    Succeeded = 0,

    /// <summary>The work failed for good; <see cref="JobResult{T}.Reason"/> says why.</summary>
    Failed,

    /// <summary>The work was not done and may be run again (partition stopped, drained, cancelled, queue full).</summary>
    NotCompleted,
}
