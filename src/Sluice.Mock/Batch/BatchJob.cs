using System.Diagnostics;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Batch;

/// <summary>
/// One batch: its answered lines, fixed at creation, and its timeline. Nothing runs in the background: the
/// state at any instant is a pure function of the clock (see <see cref="ViewAt"/>), so a test that advances a
/// fake clock sees exactly the counts it computes. The first 5% of the processing time is validation, the last 5%
/// finalizing, and the lines are answered evenly in between, in file order.
/// </summary>
internal sealed class BatchJob
{
    private const double PhaseShare = 0.05;
    private int[]? _succeededBefore;

    public required string Id { get; init; }

    public required Provider Provider { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required TimeSpan ProcessingTime { get; init; }

    public required TimeSpan CompletionWindow { get; init; }

    public required IReadOnlyList<LineAnswer> Lines { get; init; }

    /// <summary>OpenAI: the model every line names, for the enqueued-token limit.</summary>
    public string Model { get; init; } = "";

    /// <summary>OpenAI: the lines' estimated tokens, counted as enqueued until the batch ends.</summary>
    public long EstimatedTokens { get; init; }

    /// <summary>OpenAI: why validation fails (code, message), or null.</summary>
    public (string Code, string Message)? ValidationError { get; init; }

    /// <summary>OpenAI: the target endpoint, such as <c>/v1/chat/completions</c>.</summary>
    public string Endpoint { get; init; } = "";

    public string InputFileId { get; init; } = "";

    /// <summary>OpenAI: the <c>metadata</c> object as sent (raw JSON), or null.</summary>
    public string? Metadata { get; init; }

    /// <summary>OpenAI: the ids the output and error files get once the batch ends with lines for them.</summary>
    public string OutputFileId { get; init; } = "";

    public string ErrorFileId { get; init; } = "";

    /// <summary>When a cancel was asked for, or null. Set once, under the store's lock.</summary>
    public DateTimeOffset? CancelRequestedAt { get; private set; }

    private TimeSpan Validation => ProcessingTime * PhaseShare;

    private TimeSpan Answering => ProcessingTime - (2 * Validation);

    /// <summary>Asks to cancel at <paramref name="now"/>; false when the batch has ended or is already cancelling.</summary>
    public bool TryCancel(DateTimeOffset now)
    {
        var view = ViewAt(now);
        if (view.Ended || view.Phase == BatchPhase.Cancelling)
        {
            return false;
        }

        CancelRequestedAt = now;
        Debug.Assert(ViewAt(now).Phase == BatchPhase.Cancelling, "a cancel takes effect at once");
        return true;
    }

    /// <summary>The batch as it is at <paramref name="now"/>.</summary>
    public BatchView ViewAt(DateTimeOffset now)
    {
        var validated = CreatedAt + Validation;
        var answered = validated + Answering;
        var finished = CreatedAt + ProcessingTime;
        var expires = CreatedAt + CompletionWindow;
        var inProgressAt = now >= validated ? validated : (DateTimeOffset?)null;

        if (ValidationError is not null)
        {
            return now < validated || CancelRequestedAt is not null
                ? Counted(CancelRequestedAt is { } asked ? CancelView(now, asked, 0) : new() { Phase = BatchPhase.Validating, Done = 0, Succeeded = 0, Errored = 0 })
                : new() { Phase = BatchPhase.Failed, Done = 0, Succeeded = 0, Errored = 0, FailedAt = validated };
        }

        // A cancel before the window passed wins over expiry; the window wins over a cancel asked later.
        if (CancelRequestedAt is { } cancelAt && cancelAt < expires)
        {
            return Counted(CancelView(now, cancelAt, DoneAt(cancelAt)) with { InProgressAt = cancelAt >= validated ? validated : null });
        }

        if (expires < finished && now >= expires)
        {
            return Counted(new BatchView
            {
                Phase = BatchPhase.Expired, Done = DoneAt(expires), Succeeded = 0, Errored = 0,
                InProgressAt = expires >= validated ? validated : null, ExpiredAt = expires,
            });
        }

        var phase = now < validated ? BatchPhase.Validating
            : now < answered ? BatchPhase.InProgress
            : now < finished ? BatchPhase.Finalizing
            : BatchPhase.Completed;
        return Counted(new BatchView
        {
            Phase = phase,
            Done = DoneAt(now),
            Succeeded = 0,
            Errored = 0,
            InProgressAt = inProgressAt,
            FinalizingAt = now >= answered ? answered : null,
            CompletedAt = phase == BatchPhase.Completed ? finished : null,
        });
    }

    private BatchView CancelView(DateTimeOffset now, DateTimeOffset cancelAt, int done)
    {
        // Cancelling lasts as long as finalizing would; then the batch is cancelled with the lines done by the cancel.
        var cancelledAt = cancelAt + Validation;
        return new BatchView
        {
            Phase = now < cancelledAt ? BatchPhase.Cancelling : BatchPhase.Cancelled,
            Done = done,
            Succeeded = 0,
            Errored = 0,
            CancellingAt = cancelAt,
            CancelledAt = now < cancelledAt ? null : cancelledAt,
        };
    }

    private BatchView Counted(BatchView view)
    {
        var succeeded = SucceededBefore()[view.Done];
        return view with { Succeeded = succeeded, Errored = view.Done - succeeded };
    }

    /// <summary>
    /// How many of the first i lines succeeded, for every i: a view is read on every poll and list, under the
    /// store's lock, so it must not walk the lines. Built once; a racing second build makes the same array.
    /// </summary>
    private int[] SucceededBefore()
    {
        if (_succeededBefore is { } built)
        {
            return built;
        }

        var counts = new int[Lines.Count + 1];
        for (var i = 0; i < Lines.Count; i++)
        {
            counts[i + 1] = counts[i] + (Lines[i].Succeeded ? 1 : 0);
        }

        _succeededBefore = counts;
        return counts;
    }

    private int DoneAt(DateTimeOffset at)
    {
        var elapsed = at - (CreatedAt + Validation);
        if (elapsed <= TimeSpan.Zero)
        {
            return 0;
        }

        if (elapsed >= Answering)
        {
            return Lines.Count;
        }

        return (int)Math.Min(Lines.Count, Math.Floor(elapsed.Ticks / (double)Answering.Ticks * Lines.Count));
    }
}
