using System.Diagnostics;
using Sluice.Telemetry;

namespace Sluice.Gate;

/// <summary>The admission machine: who may start now, and when the next one can.</summary>
internal sealed partial class LocalPartition
{
    // Numbers the timer decisions made under the lock (see WakeTimer).
    private long _timerVersion;

    public override ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default)
    {
        ThrowIfNegative(request);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<GateLease>(cancellationToken);
        }

        GateLease? immediate;
        GateWaiter? waiter = null;
        TenantState? tenant;
        Effects effects = default;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            immediate = TryAdmitOrRejectLocked(request, now, queueing: true, out tenant);
            if (immediate is null)
            {
                long sequence = request.AtFront ? _nextFrontSequence++ : _nextSequence++;
                waiter = new GateWaiter(this, tenant!, BudgetCost.Of(request), request.Priority, sequence, now);
                EnqueueLocked(waiter, tenant!, request.AtFront);
                effects = ScheduleLocked(now);
            }
        }

        if (immediate is not null)
        {
            RecordImmediate(immediate, tenantRefused: tenant is null);
            return new ValueTask<GateLease>(immediate);
        }

        _metrics.Queued.Add(1, _tag);
        if (cancellationToken.CanBeCanceled)
        {
            // Registered outside the lock: if the token is already cancelled, the callback runs here and takes it.
            waiter!.Registration = cancellationToken.UnsafeRegister(
                static (state, token) => ((GateWaiter)state!).Owner.Cancel((GateWaiter)state, token),
                waiter);
        }

        Apply(ref effects);
        return new ValueTask<GateLease>(waiter!.Task);
    }

    public override GateLease TryAcquire(AdmissionRequest request)
    {
        ThrowIfNegative(request);
        GateLease lease;
        TenantState? tenant;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (TryAdmitOrRejectLocked(request, now, queueing: false, out tenant) is { } decided)
            {
                lease = decided;
            }
            else
            {
                var cost = BudgetCost.Of(request);
                long wakeAt = HasWaiterAheadLocked(request, tenant!, now) ? long.MaxValue : Math.Max(WakeTimeLocked(cost, now), tenant!.WakeTime(cost.Tokens, now));
                TimeSpan? retryAfter = wakeAt == long.MaxValue ? null : _time.GetElapsedTime(now, wakeAt);
                _totalRejected++;
                lease = new GateLease(GateRejectionReason.Unavailable, $"Partition '{Key}' has no room now.", retryAfter);
            }
        }

        RecordImmediate(lease, tenantRefused: tenant is null);
        return lease;
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// Decides a request on arrival: an admission when nobody is ahead and every limit (the partition's, its tenant's)
    /// allows, a rejection when the partition is stopped, its tenant table is full of busy tenants or (when it would
    /// queue) the queue is full, otherwise null: it must wait, as <paramref name="tenant"/>.
    /// </summary>
    private GateLease? TryAdmitOrRejectLocked(AdmissionRequest request, long now, bool queueing, out TenantState? tenant)
    {
        tenant = null;
        if (_stopReason is { } reason)
        {
            _totalRejected++;
            return new GateLease(GateRejectionReason.Stopped, reason, retryAfter: null);
        }

        tenant = TenantForLocked(request.Tenant, now);
        if (tenant is null)
        {
            return TenantsFullLocked();
        }

        var cost = BudgetCost.Of(request);
        // The limits first: when they hold the newcomer back anyway, who is ahead of it does not matter.
        if (WakeTimeLocked(cost, now) <= now && tenant.WakeTime(cost.Tokens, now) <= now && !HasWaiterAheadLocked(request, tenant, now))
        {
            return AdmitLocked(cost, tenant, TimeSpan.Zero, now);
        }

        if (queueing && _queued >= _limits.MaxQueueLength)
        {
            _totalRejected++;
            return new GateLease(
                GateRejectionReason.QueueFull,
                $"Partition '{Key}' already has {_limits.MaxQueueLength} callers waiting.",
                retryAfter: null);
        }

        return null;
    }

    /// <summary>
    /// The earliest instant a request costing <paramref name="cost"/> may start — the latest over the pause, the
    /// concurrency limit, the first-headers wait and every budget (<see cref="PartitionBudgets.WakeTime"/>):
    /// <paramref name="now"/> when it may start now, <see cref="long.MaxValue"/> when only a release can let it in.
    /// </summary>
    private long WakeTimeLocked(in BudgetCost cost, long now)
    {
        long wake = Math.Max(now, _pausedUntil);
        if (_inFlight >= EffectiveConcurrencyLocked(now))
        {
            // Held back by Sluice's own limit, not the upstream's: what the upstream accepts meanwhile is no measure of
            // its rate. Before the first answer the Little floor grows with time, so wake when it lets one more in.
            _budgets.Probe?.SelfBound();
            if (_aimd is null || _floor.ReachesAt(_inFlight + 1, BudgetRateLocked, now) is not { } grows)
            {
                return long.MaxValue;
            }

            wake = Math.Max(wake, grows);
        }

        // Until the first headers (or answer) arrive, with PartitionLimits.AwaitFirstHeaders, one request goes alone.
        if (_firstHeadersPending && _limits.AwaitFirstHeaders && _limits.LearnBudgets && _inFlight > 0)
        {
            return long.MaxValue;
        }

        return _budgets.WakeTime(cost, wake, now);
    }

    private GateLease AdmitLocked(in BudgetCost cost, TenantState tenant, TimeSpan waitTime, long now)
    {
        // The fairness cost is measured against the budgets in force before this admission spends from them.
        double fair = ChargeTenantLocked(tenant, cost, now);
        long dayEntry = _budgets.Spend(cost, now);
        _floor.Admitted(cost.Tokens, now);
        _inFlight++;
        _totalAdmitted++;
        // Stryker disable once all : a debug-only check, compiled away in the Release build that mutation runs test.
        Debug.Assert(_inFlight > 0 && _inFlight <= _totalAdmitted, "in flight and admitted counts stay consistent");
        return new GateLease(this, cost, dayEntry, waitTime, now, _totalAdmitted) { Tenant = tenant, FairCost = fair };
    }

    /// <summary>
    /// Admits waiters, the one that goes next first (see LocalPartition.Tenants.cs), while every limit allows; when it
    /// must wait for time, or every tenant with waiters is held back by its own limits, asks for the timer.
    /// </summary>
    private Effects ScheduleLocked(long now)
    {
        Effects effects = default;
        _budgets.FollowProbe(now);
        while (_queued > 0)
        {
            // Every slot taken: only a release lets anyone in, whoever goes next (the adaptive floor may grow with time).
            if (_aimd is null && _inFlight >= _concurrencyLimit)
            {
                _budgets.Probe?.SelfBound();
                break;
            }

            var head = BestLocked(now, out var tenant, out long blockedWake);
            long wakeAt = head is null ? long.MaxValue : WakeTimeLocked(head.Cost, now);
            if (head is null || wakeAt > now)
            {
                // The head waits for the partition (nobody passes it: a large request is never starved), or nobody can
                // start: wake when the head can, or a tenant held back by its own limits can, whichever is first.
                long wake = Math.Min(wakeAt, blockedWake);
                if (wake != long.MaxValue)
                {
                    effects.TimerVersion = ++_timerVersion;
                    effects.TimerDelay = _time.GetElapsedTime(now, wake);
                }

                break;
            }

            tenant!.Dequeue(head);
            head.IsDone = true;
            WaiterLeftLocked(tenant);
            effects.Admit(head, AdmitLocked(head.Cost, tenant, _time.GetElapsedTime(head.EnqueuedAt, now), now));
        }

        AssertInvariantsLocked();
        return effects;
    }

    private void Cancel(GateWaiter waiter, CancellationToken token)
    {
        Effects effects;
        lock (_lock)
        {
            if (waiter.IsDone)
            {
                return;
            }

            waiter.IsDone = true;
            WaiterLeftLocked(waiter.Tenant);

            // The cancelled waiter may have been the head holding others back.
            effects = ScheduleLocked(_time.GetTimestamp());
        }

        waiter.TrySetCanceled(token);
        _metrics.Queued.Add(-1, _tag);
        Apply(ref effects);
    }

    private void OnTimer()
    {
        Effects effects;
        lock (_lock)
        {
            effects = ScheduleLocked(_time.GetTimestamp());
        }

        Apply(ref effects);
    }

    /// <summary>Outside the lock: completes waiters, records metrics and arms the timer.</summary>
    private void Apply(ref Effects effects)
    {
        if (effects.Completed is { } completed)
        {
            foreach (var (waiter, lease) in completed)
            {
                waiter.Registration.Unregister();
                _metrics.Queued.Add(-1, _tag);
                RecordImmediate(lease);
                waiter.TrySetResult(lease);
            }
        }

        if (effects.TimerVersion != 0)
        {
            _timer.Arm(effects.TimerVersion, effects.TimerDelay);
        }
    }

    /// <summary>Metrics and logs of an answer; <paramref name="tenantRefused"/>: a queue-full answer is the tenant table's.</summary>
    private void RecordImmediate(GateLease lease, bool tenantRefused = false)
    {
        if (lease.IsAdmitted)
        {
            _metrics.InFlight.Add(1, _tag);
            _metrics.Admitted.Add(1, _tag);
            _metrics.WaitTime.Record(lease.WaitTime.TotalSeconds, _tag);
            if (lease.ReservedTokens > 0)
            {
                _metrics.TokensReserved.Add(lease.ReservedTokens, _tag);
            }
        }
        else
        {
            _metrics.Rejected.Add(1, _tag, new KeyValuePair<string, object?>("sluice.rejection", lease.Rejection.ToString()));
            if (lease.Rejection == GateRejectionReason.QueueFull && tenantRefused)
            {
                Log.TenantsFull(_logger, Key, _maxTenants);
            }
            else if (lease.Rejection == GateRejectionReason.QueueFull)
            {
                Log.QueueFull(_logger, Key, _limits.MaxQueueLength);
            }
        }
    }

    private static void ThrowIfNegative(AdmissionRequest request)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(request.Tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(request.InputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(request.OutputTokens);
    }

    /// <summary>What a decision under the lock leaves to do after it.</summary>
    private struct Effects
    {
        public List<(GateWaiter Waiter, GateLease Lease)>? Completed;
        public long TimerVersion;
        public TimeSpan TimerDelay;

        public void Admit(GateWaiter waiter, GateLease lease) => (Completed ??= []).Add((waiter, lease));

        public void Reject(GateWaiter waiter, GateLease lease) => (Completed ??= []).Add((waiter, lease));
    }
}
