using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// The queue of this process and its pump: one attempt at a time for the head (so priority, fair share among
/// tenants and arrival order hold here), through Redis when shared, through the local share otherwise. Attempts are awaited, except on one thread per
/// gate at a time (<see cref="SharedGate.TryEnterBlocking"/>): StackExchange.Redis reads its replies on the thread pool,
/// so many threads blocked on it would starve the very calls that free them. The thread that may block is the first
/// caller at an idle partition (one round trip, no thread hop: the uncontended admission) or the partition's timer,
/// which waits for the round it starts (see <see cref="OnTimer"/>).
/// </summary>
internal sealed partial class SharedPartition
{
    private readonly PriorityQueue<SharedWaiter, SharedWaiter> _waiters = new(SharedWaiterComparer.Instance);
    private int _queued;
    private long _nextSequence;
    private long _nextFrontSequence = long.MinValue / 2;
    private bool _pumping;
    private bool _again;
    private bool _slotBound = true;
    private Task _pump = Task.CompletedTask;

    public override ValueTask<GateLease> AcquireAsync(AdmissionRequest request, CancellationToken cancellationToken = default)
    {
        ThrowIfNegative(request);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<GateLease>(cancellationToken);
        }

        SharedWaiter waiter;
        bool start;
        lock (_lock)
        {
            if (_stopReason is { } reason)
            {
                return new(CreateRejection(GateRejectionReason.Stopped, reason));
            }

            if (_queued >= _limits.MaxQueueLength)
            {
                return new(CreateRejection(GateRejectionReason.QueueFull, $"Partition '{Key}' already has {_limits.MaxQueueLength} callers waiting in this process."));
            }

            long sequence = request.AtFront ? _nextFrontSequence++ : _nextSequence++;
            waiter = new SharedWaiter(request, sequence, _time.GetTimestamp(), StartTagLocked(request, charge: true));
            _waiters.Enqueue(waiter, waiter);
            _queued++;
            start = !_pumping;
            _pumping = true;
            _again |= !start;
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) =>
            {
                var (partition, w) = ((SharedPartition, SharedWaiter))state!;
                partition.Cancel(w, token);
            }, (this, waiter));
        }

        if (start)
        {
            if (_gate.TryEnterBlocking())
            {
                // An idle partition admits in one round trip on the caller's thread, no hop; one thread per gate at most.
                try
                {
                    PumpNow(until: waiter);
                }
                finally
                {
                    _gate.ExitBlocking();
                }
            }
            else
            {
                _ = StartPump();
            }
        }

        return new(waiter.Task);
    }

    public override GateLease TryAcquire(AdmissionRequest request)
    {
        ThrowIfNegative(request);
        lock (_lock)
        {
            if (_stopReason is { } reason)
            {
                return CreateRejection(GateRejectionReason.Stopped, reason);
            }

            if (HasWaiterAheadLocked(request))
            {
                return CreateRejection(GateRejectionReason.Unavailable, $"Partition '{Key}' has callers waiting ahead.");
            }
        }

        for (int tries = 0; ; tries++)
        {
            var attempt = AttemptNow(request);
            switch (attempt.Kind)
            {
                case AttemptKind.Admitted:
                    lock (_lock)
                    {
                        StartedLocked(StartTagLocked(request, charge: true));
                        return AdmitLocked(attempt, TimeSpan.Zero, request);
                    }

                case AttemptKind.Stopped:
                    StopHere(attempt.Reason!);
                    return CreateRejection(GateRejectionReason.Stopped, attempt.Reason!);
                case AttemptKind.Again when tries < 3:
                    continue;
                default:
                    TimeSpan? retryAfter = attempt.Kind == AttemptKind.Wait && attempt.AtMs >= 0 && !attempt.SlotBound
                        ? Milliseconds(attempt.AtMs - attempt.NowMs)
                        : null;
                    return CreateRejection(GateRejectionReason.Unavailable, $"Partition '{Key}' has no room now.", retryAfter);
            }
        }
    }

    /// <summary>Makes the lease of an admission and remembers what it holds.</summary>
    private GateLease AdmitLocked(Outcome attempt, TimeSpan waitTime, AdmissionRequest request)
    {
        long admission = ++_admissions;
        var lease = CreateLease(request, waitTime, attempt.AdmittedAt, admission);
        var record = new LeaseRecord
        {
            SlotId = attempt.SlotId,
            Local = attempt.Local,
            DayBucket = attempt.DayBucket,
            AdmittedMs = attempt.NowMs,
            Episode = attempt.Episode,
        };
        _records.AddOrUpdate(lease, record);
        if (record.Local is not null)
        {
            _localHeld.Add(record);
        }
        else if (record.SlotId is { } slot)
        {
            _held.Add(slot);
        }

        return lease;
    }

    private void Cancel(SharedWaiter waiter, CancellationToken token)
    {
        lock (_lock)
        {
            if (waiter.IsDone)
            {
                return;
            }

            waiter.IsDone = true;
            _queued--;
        }

        waiter.TrySetCanceled(token);
        Kick();
    }

    /// <summary>Stops the partition here: every waiter of this process is rejected with the reason, and so is every later caller.</summary>
    private void StopHere(string reason)
    {
        List<SharedWaiter> rejected = [];
        lock (_lock)
        {
            _stopReason = reason;
            while (_waiters.TryDequeue(out var waiter, out _))
            {
                if (!waiter.IsDone)
                {
                    waiter.IsDone = true;
                    _queued--;
                    rejected.Add(waiter);
                }
            }
        }

        foreach (var waiter in rejected)
        {
            waiter.Registration.Unregister();
            waiter.TrySetResult(CreateRejection(GateRejectionReason.Stopped, reason));
        }
    }

    /// <summary>True when a live waiter would be served before <paramref name="request"/>.</summary>
    private bool HasWaiterAheadLocked(AdmissionRequest request)
    {
        if (!TryPeekLiveLocked(out var head))
        {
            return false;
        }

        // Ranked as the queue ranks: priority, then the start tag the newcomer would get, then arrival.
        double start = StartTagLocked(request, charge: false);
        long sequence = request.AtFront ? _nextFrontSequence : _nextSequence;
        return head.Priority > request.Priority
            || (head.Priority == request.Priority && (head.Start < start || (head.Start == start && head.Sequence < sequence)));
    }

    /// <summary>Drops finished waiters from the head (they are removed lazily) and returns the live head, if any.</summary>
    private bool TryPeekLiveLocked(out SharedWaiter head)
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

    // Whole milliseconds rounded up, forgiving floating-point noise (1000.0000001 ms is 1 s).
    private static TimeSpan Milliseconds(double ms) => TimeSpan.FromTicks((long)Math.Ceiling((ms * TimeSpan.TicksPerMillisecond) - 1e-3));

    private static void ThrowIfNegative(AdmissionRequest request)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(request.Tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(request.InputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(request.OutputTokens);
    }
}
