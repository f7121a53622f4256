namespace Sluice.Gate;

/// <summary>A caller waiting at a partition. Completed exactly once, under the partition's lock.</summary>
internal sealed class GateWaiter : TaskCompletionSource<GateLease>
{
    // Continuations run on the thread pool, so completing a waiter under the lock never runs caller code there.
    public GateWaiter(LocalPartition owner, TenantState tenant, BudgetCost cost, int priority, long sequence, long enqueuedAt)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        Owner = owner;
        Tenant = tenant;
        Cost = cost;
        Priority = priority;
        Sequence = sequence;
        EnqueuedAt = enqueuedAt;
    }

    public LocalPartition Owner { get; }

    public TenantState Tenant { get; }

    public BudgetCost Cost { get; }

    public int Priority { get; }

    public long Sequence { get; }

    public long EnqueuedAt { get; }

    /// <summary>Set under the partition lock when the waiter is admitted, rejected or cancelled.</summary>
    public bool IsDone { get; set; }

    public CancellationTokenRegistration Registration { get; set; }
}
