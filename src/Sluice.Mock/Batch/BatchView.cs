namespace Sluice.Mock.Batch;

/// <summary>
/// A batch as seen at one instant, computed from the clock: its phase, how many lines are done, and when each
/// phase began (null when it has not).
/// </summary>
internal sealed record BatchView
{
    public required BatchPhase Phase { get; init; }

    /// <summary>Lines answered (successfully or not), in file order: the first <see cref="Done"/> lines.</summary>
    public required int Done { get; init; }

    public required int Succeeded { get; init; }

    public required int Errored { get; init; }

    public DateTimeOffset? InProgressAt { get; init; }

    public DateTimeOffset? FinalizingAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public DateTimeOffset? FailedAt { get; init; }

    public DateTimeOffset? ExpiredAt { get; init; }

    public DateTimeOffset? CancellingAt { get; init; }

    public DateTimeOffset? CancelledAt { get; init; }

    /// <summary>Whether the batch has ended: nothing about it changes any more.</summary>
    public bool Ended => Phase is BatchPhase.Completed or BatchPhase.Failed or BatchPhase.Expired or BatchPhase.Cancelled;

    /// <summary>When it ended, or null.</summary>
    public DateTimeOffset? EndedAt => CompletedAt ?? FailedAt ?? ExpiredAt ?? CancelledAt;
}
