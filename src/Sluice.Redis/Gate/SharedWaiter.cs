using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>A caller waiting at a shared partition in this process. Completed exactly once.</summary>
internal sealed class SharedWaiter(AdmissionRequest request, long sequence, long enqueuedAt, double start)
    : TaskCompletionSource<GateLease>(TaskCreationOptions.RunContinuationsAsynchronously)
{
    public AdmissionRequest Request { get; } = request;

    public int Priority => Request.Priority;

    public long Sequence { get; } = sequence;

    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>Its fair-queuing start tag among the tenants of this process (see SharedPartition.Tenants.cs).</summary>
    public double Start { get; } = start;

    /// <summary>Set under the partition lock when the waiter is admitted, rejected or cancelled.</summary>
    public bool IsDone { get; set; }

    public CancellationTokenRegistration Registration { get; set; }
}

/// <summary>Orders waiters: higher priority first, then the smaller fair-queuing start tag, then lower sequence (arrival; requeued work has the lowest).</summary>
internal sealed class SharedWaiterComparer : IComparer<SharedWaiter>
{
    public static readonly SharedWaiterComparer Instance = new();

    public int Compare(SharedWaiter? x, SharedWaiter? y)
    {
        int byPriority = y!.Priority.CompareTo(x!.Priority);
        if (byPriority != 0)
        {
            return byPriority;
        }

        int byStart = x.Start.CompareTo(y.Start);
        return byStart != 0 ? byStart : x.Sequence.CompareTo(y.Sequence);
    }
}
