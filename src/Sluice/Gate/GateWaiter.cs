namespace Sluice.Gate;

/// <summary>A caller waiting at a partition. Completed exactly once, under the partition's lock.</summary>
internal sealed class GateWaiter : TaskCompletionSource<GateLease>
{
    // Continuations run on the thread pool, so completing a waiter under the lock never runs caller code there.
    public GateWaiter(LocalPartition owner, BudgetCost cost, int priority, long sequence, long enqueuedAt)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Owner = owner;
        Cost = cost;
        Priority = priority;
        Sequence = sequence;
        EnqueuedAt = enqueuedAt;
    }

    public LocalPartition Owner { get; }

    public BudgetCost Cost { get; }

    public int Priority { get; }

    public long Sequence { get; }

    public long EnqueuedAt { get; }

    /// <summary>Set under the partition lock when the waiter is admitted, rejected or cancelled.</summary>
    public bool IsDone { get; set; }

    public CancellationTokenRegistration Registration { get; set; }
}

/// <summary>Orders waiters: higher priority first, then lower sequence (arrival; requeued work has the lowest).</summary>
internal sealed class GateWaiterComparer : IComparer<GateWaiter>
{
    public static readonly GateWaiterComparer Instance = new();

    public int Compare(GateWaiter? x, GateWaiter? y)
    {
        int byPriority = y!.Priority.CompareTo(x!.Priority);
        return byPriority != 0 ? byPriority : x.Sequence.CompareTo(y.Sequence);
    }
}
