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
        Effects effects = default;
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            immediate = TryAdmitOrRejectLocked(request, now, queueing: true);
            if (immediate is null)
            {
                long sequence = request.AtFront ? _nextFrontSequence++ : _nextSequence++;
                waiter = new GateWaiter(this, BudgetCost.Of(request), request.Priority, sequence, now);
                _waiters.Enqueue(waiter, waiter);
                _queued++;
                effects = ScheduleLocked(now);
            }
        }

        if (immediate is not null)
        {
            RecordImmediate(immediate);
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
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (TryAdmitOrRejectLocked(request, now, queueing: false) is { } decided)
            {
                lease = decided;
            }
            else
            {
                long wakeAt = HasWaiterAheadLocked(request) ? long.MaxValue : WakeTimeLocked(BudgetCost.Of(request), now);
                TimeSpan? retryAfter = wakeAt == long.MaxValue ? null : _time.GetElapsedTime(now, wakeAt);
                _totalRejected++;
                lease = new GateLease(GateRejectionReason.Unavailable, $"Partition '{Key}' has no room now.", retryAfter);
            }
        }

        RecordImmediate(lease);
        return lease;
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// Decides a request on arrival: an admission when nobody is ahead and every limit allows, a rejection when the
    /// partition is stopped or (when it would queue) the queue is full, otherwise null: it must wait.
    /// </summary>
    private GateLease? TryAdmitOrRejectLocked(AdmissionRequest request, long now, bool queueing)
    {
        if (_stopReason is { } reason)
        {
            _totalRejected++;
            return new GateLease(GateRejectionReason.Stopped, reason, retryAfter: null);
        }

        var cost = BudgetCost.Of(request);
        if (!HasWaiterAheadLocked(request) && WakeTimeLocked(cost, now) <= now)
        {
            return AdmitLocked(cost, TimeSpan.Zero, now);
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

    /// <summary>True when a live waiter would be served before <paramref name="request"/>.</summary>
    private bool HasWaiterAheadLocked(AdmissionRequest request)
    {
        if (!TryPeekLiveLocked(out var head))
        {
            return false;
        }

        // The head is the best-ranked waiter. A newcomer ranks after every waiter of its priority, unless it goes
        // to the front, where it ranks after earlier front-goers only.
        return head.Priority > request.Priority
            || (head.Priority == request.Priority && (!request.AtFront || head.Sequence < _nextFrontSequence));
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

    private GateLease AdmitLocked(in BudgetCost cost, TimeSpan waitTime, long now)
    {
        long dayEntry = _budgets.Spend(cost, now);
        _floor.Admitted(cost.Tokens, now);
        _inFlight++;
        _totalAdmitted++;
        // Stryker disable once all : a debug-only check, compiled away in the Release build that mutation runs test.
        Debug.Assert(_inFlight > 0 && _inFlight <= _totalAdmitted, "in flight and admitted counts stay consistent");
        return new GateLease(this, cost, dayEntry, waitTime, now, _totalAdmitted);
    }

    /// <summary>Admits waiters from the head while every limit allows; when the head must wait for time, asks for the timer.</summary>
    private Effects ScheduleLocked(long now)
    {
        Effects effects = default;
        _budgets.FollowProbe(now);
        while (TryPeekLiveLocked(out var head))
        {
            long wakeAt = WakeTimeLocked(head.Cost, now);
            if (wakeAt > now)
            {
                if (wakeAt != long.MaxValue)
                {
                    effects.TimerVersion = ++_timerVersion;
                    effects.TimerDelay = _time.GetElapsedTime(now, wakeAt);
                }

                break;
            }

            _waiters.Dequeue();
            _queued--;
            head.IsDone = true;
            effects.Admit(head, AdmitLocked(head.Cost, _time.GetElapsedTime(head.EnqueuedAt, now), now));
        }

        AssertInvariantsLocked();
        return effects;
    }

    /// <summary>Drops cancelled waiters from the head (they are removed lazily) and returns the live head, if any.</summary>
    private bool TryPeekLiveLocked(out GateWaiter head)
    {
        while (_waiters.TryPeek(out head!, out _))
        {
            if (!head.IsDone)
            {
                return true;
            }

            _waiters.Dequeue();
        }

        return false;
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
            _queued--;

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

    private void RecordImmediate(GateLease lease)
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
            if (lease.Rejection == GateRejectionReason.QueueFull)
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
