using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>A caller waiting at a shared partition in this process. Completed exactly once.</summary>
internal sealed class SharedWaiter(AdmissionRequest request, long sequence, long enqueuedAt)
    : TaskCompletionSource<GateLease>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public AdmissionRequest Request { get; } = request;

    public int Priority => Request.Priority;

    public long Sequence { get; } = sequence;

    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>Set under the partition lock when the waiter is admitted, rejected or cancelled.</summary>
    public bool IsDone { get; set; }

    public CancellationTokenRegistration Registration { get; set; }
}

/// <summary>Orders waiters: higher priority first, then lower sequence (arrival; requeued work has the lowest).</summary>
internal sealed class SharedWaiterComparer : IComparer<SharedWaiter>
{
    public static readonly SharedWaiterComparer Instance = new();

    public int Compare(SharedWaiter? x, SharedWaiter? y)
    {
        int byPriority = y!.Priority.CompareTo(x!.Priority);
        return byPriority != 0 ? byPriority : x.Sequence.CompareTo(y.Sequence);
    }
}
