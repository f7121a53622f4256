namespace Sluice.Gate;

/// <summary>
/// Tenants and fair share: which waiter goes next. Among the waiters whose effective priority (priority, plus one for
/// every <see cref="GateOptions.PriorityAging"/> waited, up to the highest priority waiting: aging lifts a lower
/// priority to the top, never an old waiter above its peers, which would undo fair share) is highest, start-time fair queuing: each tenant's next
/// admission starts at S = max(V, F), the partition's virtual time or the tenant's finish tag, whichever is later; the
/// smallest S goes first (ties by arrival); admitting it sets V = S and F = S + cost / weight. An idle tenant's F falls
/// behind V, so its credit does not accumulate; a tenant alone gets everything. The cost is the admission's largest
/// share of a budget in force (seconds of the request or token budget it uses), so tenants share what is scarce.
/// </summary>
internal sealed partial class LocalPartition
{
    private readonly Dictionary<string, TenantState> _tenants = new(StringComparer.Ordinal);

    // Tenants with a live waiter, in no order; each knows its index for O(1) removal.
    private readonly List<TenantState> _active = [];
    private readonly long _agingTicks;
    private readonly int _maxTenants;

    // The tenant of requests that name none, looked up without hashing; null until used, or once forgotten.
    private TenantState? _defaultTenant;
    private double _virtualTime;

    /// <summary>
    /// The state of <paramref name="tenant"/> (null: the default tenant), made when first seen; null when the table is
    /// full of busy tenants and a new one cannot be tracked.
    /// </summary>
    private TenantState? TenantForLocked(GateTenant? tenant, long now)
    {
        if (tenant is null)
        {
            if (_defaultTenant is not { Tracked: true })
            {
                _defaultTenant = _tenants.TryGetValue(GateTenant.Default.Name, out var named) ? named : AddTenantLocked(GateTenant.Default, now);
            }

            _defaultTenant?.LastUsed = now;
            return _defaultTenant;
        }

        if (_tenants.TryGetValue(tenant.Name, out var state))
        {
            // A later tenant of the same name with another weight or other limits replaces them.
            if (!ReferenceEquals(state.Source, tenant) && !state.Source.Equals(tenant))
            {
                state.Configure(tenant, now);
            }

            state.LastUsed = now;
            return state;
        }

        return AddTenantLocked(tenant, now);
    }

    private TenantState? AddTenantLocked(GateTenant tenant, long now)
    {
        if (_tenants.Count >= _maxTenants && !ForgetIdlestLocked())
        {
            return null;
        }

        var state = new TenantState(tenant, now, _time.TimestampFrequency)
        {
            // A newcomer starts level with the others: no credit for the time before it came.
            Finish = _virtualTime,
        };
        _tenants.Add(tenant.Name, state);
        return state;
    }

    /// <summary>Forgets the tenant unused longest among those with nothing waiting or in flight; false when every one is busy.</summary>
    private bool ForgetIdlestLocked()
    {
        TenantState? idlest = null;
        foreach (var state in _tenants.Values)
        {
            if (state.Waiting == 0 && state.InFlight == 0 && (idlest is null || state.LastUsed < idlest.LastUsed))
            {
                idlest = state;
            }
        }

        if (idlest is null)
        {
            return false;
        }

        _tenants.Remove(idlest.Name);
        idlest.Tracked = false;
        return true;
    }

    private GateLease TenantsFullLocked()
    {
        _totalRejected++;
        return new GateLease(
            GateRejectionReason.QueueFull,
            $"Partition '{Key}' tracks its limit of {_maxTenants} tenants and every one has work waiting or in flight; a new tenant is accepted once one is idle.",
            retryAfter: null);
    }

    /// <summary>
    /// The fairness cost of an admission: its largest share of a per-minute budget in force, in seconds of that budget
    /// (a request of a 10/s budget costs 0.1, 500 tokens of a 1,000/s budget 0.5); 1 when no budget is known.
    /// </summary>
    private double FairCostLocked(in BudgetCost cost)
    {
        double fair = 0;
        if (_budgets.RequestRate is { } requests && requests > 0)
        {
            fair = 1 / requests;
        }

        fair = Math.Max(fair, Share(cost.Tokens, _budgets.TokenRate(BudgetDimension.Tokens)));
        fair = Math.Max(fair, Share(cost.Input, _budgets.TokenRate(BudgetDimension.InputTokens)));
        fair = Math.Max(fair, Share(cost.Output, _budgets.TokenRate(BudgetDimension.OutputTokens)));
        return fair > 0 ? fair : 1;

        static double Share(long amount, double? rate) => amount > 0 && rate is { } perSecond && perSecond > 0 ? amount / perSecond : 0;
    }

    /// <summary>The start tag of <paramref name="tenant"/>'s next admission.</summary>
    private double StartOf(TenantState tenant) => Math.Max(_virtualTime, tenant.Finish);

    /// <summary>True when a waiter keyed (<paramref name="priority"/>, <paramref name="start"/>, <paramref name="sequence"/>) goes before the other.</summary>
    private static bool Before(int priority, double start, long sequence, int otherPriority, double otherStart, long otherSequence) =>
        priority != otherPriority ? priority > otherPriority
        : start != otherStart ? start < otherStart
        : sequence < otherSequence;

    /// <summary>
    /// The waiter that goes next among tenants whose own limits let their head start now, with its tenant; and the
    /// earliest instant a tenant held back by its own limits could start (<see cref="long.MaxValue"/>: none, or only
    /// a release can).
    /// </summary>
    private GateWaiter? BestLocked(long now, out TenantState? bestTenant, out long blockedWake)
    {
        GateWaiter? best = null;
        bestTenant = null;
        blockedWake = long.MaxValue;
        int bestPriority = 0;
        double bestStart = 0;
        int cap = TopPriorityLocked(int.MinValue);
        foreach (var tenant in _active)
        {
            var head = tenant.Head(now, _agingTicks, cap, out int priority);
            // Stryker disable once all : a debug-only check.
            System.Diagnostics.Debug.Assert(head is not null, "an active tenant holds no live waiter");
            if (head is null)
            {
                continue;
            }

            long own = tenant.WakeTime(head.Cost.Tokens, now);
            if (own > now)
            {
                blockedWake = Math.Min(blockedWake, own);
                continue;
            }

            double start = StartOf(tenant);
            if (best is null || Before(priority, start, head.Sequence, bestPriority, bestStart, best.Sequence))
            {
                (best, bestTenant, bestPriority, bestStart) = (head, tenant, priority, start);
            }
        }

        return best;
    }

    /// <summary>
    /// True when a live waiter would go before a newcomer of <paramref name="tenant"/>: one of its own tenant of an
    /// equal or higher rank, or another tenant's that its own limits let start and that ranks first.
    /// </summary>
    private bool HasWaiterAheadLocked(AdmissionRequest request, TenantState tenant, long now)
    {
        if (_queued == 0)
        {
            return false;
        }

        double start = StartOf(tenant);
        long sequence = request.AtFront ? _nextFrontSequence : _nextSequence;
        int cap = TopPriorityLocked(request.Priority);
        foreach (var other in _active)
        {
            var head = other.Head(now, _agingTicks, cap, out int priority);
            if (head is null || (other != tenant && other.WakeTime(head.Cost.Tokens, now) > now))
            {
                continue;
            }

            if (Before(priority, StartOf(other), head.Sequence, request.Priority, start, sequence))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The highest priority waiting (or <paramref name="floor"/>, if higher): how far aging may lift a waiter.</summary>
    private int TopPriorityLocked(int floor)
    {
        int top = floor;
        if (_agingTicks != long.MaxValue)
        {
            foreach (var tenant in _active)
            {
                top = Math.Max(top, tenant.TopPriority());
            }
        }

        return top;
    }

    private void EnqueueLocked(GateWaiter waiter, TenantState tenant, bool atFront)
    {
        tenant.Enqueue(waiter, atFront);
        _queued++;
        if (tenant.Waiting++ == 0)
        {
            tenant.ActiveIndex = _active.Count;
            _active.Add(tenant);
        }
    }

    /// <summary>Counts a waiter of <paramref name="tenant"/> as gone (admitted, cancelled); the last one takes the tenant off the active list.</summary>
    private void WaiterLeftLocked(TenantState tenant)
    {
        _queued--;
        if (--tenant.Waiting > 0)
        {
            return;
        }

        // Only cancelled waiters may be left in its queues: drop them now, so an idle tenant holds nothing.
        tenant.ClearQueues();
        int index = tenant.ActiveIndex;
        var last = _active[^1];
        _active[index] = last;
        last.ActiveIndex = index;
        _active.RemoveAt(_active.Count - 1);
        tenant.ActiveIndex = -1;
    }

    /// <summary>Charges an admission to its tenant's fair-queuing account, own budgets and share; returns its fairness cost.</summary>
    private double ChargeTenantLocked(TenantState tenant, in BudgetCost cost, long now)
    {
        double fair = FairCostLocked(cost);
        double start = StartOf(tenant);
        _virtualTime = start;
        tenant.Finish = start + (fair / tenant.Weight);
        tenant.InFlight++;
        tenant.Admitted++;
        tenant.LastUsed = now;
        tenant.Spend(cost.Tokens);
        tenant.Receive(fair, now);
        return fair;
    }

    /// <summary>A settled lease corrects its tenant's account by the change in its fairness cost.</summary>
    private void SettleTenantLocked(GateLease lease, BudgetDimension dimension, long delta, long now)
    {
        if (lease.Tenant is not { } tenant)
        {
            return;
        }

        if (dimension == BudgetDimension.Tokens)
        {
            tenant.SettleTokens(delta, now);
        }

        double fair = FairCostLocked(new BudgetCost(lease.ReservedTokens, lease.Reserved(BudgetDimension.InputTokens), lease.Reserved(BudgetDimension.OutputTokens)));
        double change = fair - lease.FairCost;
        lease.FairCost = fair;
        tenant.Finish += change / tenant.Weight;
        tenant.Receive(change, now);
    }

    /// <summary>Every tenant tracked, by name, with its share received (of the decayed total) and due (of the weights waiting).</summary>
    private TenantSnapshot[] TenantSnapshotsLocked(long now)
    {
        if (_tenants.Count == 0)
        {
            return [];
        }

        long frequency = _time.TimestampFrequency;
        double received = 0;
        double waitingWeight = 0;
        foreach (var tenant in _tenants.Values)
        {
            received += TenantState.Decayed(tenant.Received, tenant.ReceivedAt, now, frequency);
            waitingWeight += tenant.Waiting > 0 ? tenant.Weight : 0;
        }

        var list = new TenantSnapshot[_tenants.Count];
        int i = 0;
        foreach (var tenant in _tenants.Values)
        {
            double own = TenantState.Decayed(tenant.Received, tenant.ReceivedAt, now, frequency);
            list[i++] = new TenantSnapshot(tenant.Name, tenant.Weight, tenant.InFlight, tenant.Waiting)
            {
                Admitted = tenant.Admitted,
                ShareReceived = received > 0 ? Math.Clamp(own / received, 0, 1) : 0,
                ShareDue = tenant.Waiting > 0 ? tenant.Weight / waitingWeight : null,
            };
        }

        Array.Sort(list, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    // Stryker disable all : debug-only invariant checks; the Release build that mutation runs test compiles them away.

    /// <summary>Checks, in debug builds, the tenants' counts against the partition's.</summary>
    [System.Diagnostics.Conditional("DEBUG")]
    private void AssertTenantInvariantsLocked()
    {
        int waiting = 0, live = 0, inFlight = 0;
        foreach (var tenant in _tenants.Values)
        {
            waiting += tenant.Waiting;
            live += tenant.CountLive();
            inFlight += tenant.InFlight;
            System.Diagnostics.Debug.Assert(tenant.Waiting >= 0 && tenant.InFlight >= 0, "a tenant count below zero");
            System.Diagnostics.Debug.Assert(tenant.Waiting == 0 ? tenant.ActiveIndex == -1 : ReferenceEquals(_active[tenant.ActiveIndex], tenant), "the active list differs from the tenants waiting");
        }

        System.Diagnostics.Debug.Assert(_tenants.Count <= _maxTenants, "more tenants than the limit");
        System.Diagnostics.Debug.Assert(waiting == _queued, "queued count differs from the tenants' waiting counts");
        System.Diagnostics.Debug.Assert(live == _queued, "queued count differs from the live waiters held");
        System.Diagnostics.Debug.Assert(inFlight == _inFlight, "in-flight count differs from the tenants' in-flight counts");
    }

    // Stryker restore all
}
