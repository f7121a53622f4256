namespace Sluice.Dispatch;

/// <summary>The class of an attempt's answer; it decides what the dispatcher does next (see DESIGN.md's outcome table).</summary>
public enum AttemptOutcomeKind
{
    /// <summary>The work succeeded: settle tokens, deliver.</summary>
    Success = 0,

    /// <summary>The provider asked to slow down (429 rate limit, 529 overloaded): pause the partition, requeue at the front; uses no attempt.</summary>
    Throttled,

    /// <summary>Worth another try (5xx, reset, timeout, malformed body): back off, retry up to the attempt limit under the retry budget.</summary>
    Transient,

    /// <summary>Will fail however often it is tried (400, 404, 422): fail the job, never retry.</summary>
    Permanent,

    /// <summary>The account's quota or billing limit is used up: stop the partition, leave its jobs pending.</summary>
    QuotaExhausted,

    /// <summary>The credentials were rejected (401, 403) after any refresh: stop the partition, leave its jobs pending.</summary>
    AuthFailed,
}
