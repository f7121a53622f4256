namespace Sluice.Dispatch;

/// <summary>Why a job ended the way it did.</summary>
public enum JobEndReason
{
    /// <summary>It succeeded.</summary>
    None = 0,

    /// <summary>Failed: the provider gave an answer that retrying cannot change.</summary>
    Permanent,

    /// <summary>Failed: every allowed attempt failed transiently.</summary>
    AttemptsExhausted,

    /// <summary>Failed: the job's deadline passed.</summary>
    DeadlineExceeded,

    /// <summary>Not completed: this job met the exhausted quota and stopped its partition.</summary>
    QuotaExhausted,

    /// <summary>Not completed: this job's credentials were rejected and it stopped its partition.</summary>
    AuthFailed,

    /// <summary>Not completed: the partition had been stopped (quota, credentials, parked) before this job could start.</summary>
    PartitionStopped,

    /// <summary>Not completed: the partition's wait queue was full.</summary>
    QueueFull,

    /// <summary>Not completed: the dispatcher was draining, so the job did not start (or start again).</summary>
    Drained,

    /// <summary>Not completed: the caller cancelled it.</summary>
    Canceled,

    /// <summary>
    /// Not completed: the provider asked this job to wait longer than <see cref="DispatcherOptions.MaxThrottlePause"/>
    /// (a daily limit, say), so it parked the partition rather than sleep for hours.
    /// </summary>
    Parked,

    /// <summary>
    /// Not completed: the next try's worst case would have taken a spend cap past its limit (or its model has no
    /// price and a cap applies), so it was not sent. Nothing was spent on it; it can be run again once there is room.
    /// </summary>
    SpendCapReached,
}
