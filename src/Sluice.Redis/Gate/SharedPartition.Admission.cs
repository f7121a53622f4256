using System.Globalization;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// The queue of this process and its pump: one attempt at a time for the head (so priority and arrival order hold
/// here), through Redis when shared, through the local share otherwise. Attempts are awaited, except on one thread per
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

    private enum AttemptKind
    {
        Admitted,
        Wait,
        Stopped,
        Again,
    }

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
            waiter = new SharedWaiter(request, sequence, _time.GetTimestamp());
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

    /// <summary>Retries the head: after a release, a refund, a message from another process, a change of mode.</summary>
    internal void Kick()
    {
        lock (_lock)
        {
            if (_disposed || _queued == 0)
            {
                return;
            }

            if (_pumping)
            {
                _again = true;
                return;
            }

            _pumping = true;
        }

        _ = StartPump();
    }

    /// <summary>
    /// The partition's timer: retries the head and waits (bounded) until that round is over. A timer fires when time has
    /// made room, so the admissions it allows are made before the clock goes on (a test's fake clock moves only when
    /// its timers are done); the wait costs the timer's thread one round trip per admission.
    /// </summary>
    private void OnTimer()
    {
        if (!_gate.TryEnterBlocking())
        {
            Kick();
            return;
        }

        try
        {
            RunTimerRound();
        }
        finally
        {
            _gate.ExitBlocking();
        }
    }

    private void RunTimerRound()
    {
        Task round;
        bool start = false;
        lock (_lock)
        {
            if (_disposed || _queued == 0)
            {
                return;
            }

            if (_pumping)
            {
                _again = true;
            }
            else
            {
                _pumping = true;
                start = true;
            }

            round = _pump;
        }

        if (start)
        {
            round = StartPump();
        }

        // Bounded: every call in the round is (OperationTimeout); a round that outlasts this goes on by itself.
        round.Wait(_gate.OperationTimeout * 4);
    }

    /// <summary>Starts the pump (the caller has set <c>_pumping</c>); its first call is sent before this returns.</summary>
    private Task StartPump()
    {
        var pump = PumpAsync();
        lock (_lock)
        {
            if (!pump.IsCompleted)
            {
                _pump = pump;
            }
        }

        return pump;
    }

    /// <summary>
    /// Serves the queue on this thread, one blocking round trip per attempt, until <paramref name="until"/> (the caller's
    /// own waiter) is decided; then the rest, if any, goes on asynchronously.
    /// </summary>
    private void PumpNow(SharedWaiter until)
    {
        while (TryTakeHead(out var head, out int behind))
        {
            if (until.Task.IsCompleted)
            {
                lock (_lock)
                {
                    _pumping = false;
                }

                Kick();
                return;
            }

            Outcome attempt;
            try
            {
                attempt = AttemptNow(head.Request, behind);
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            if (!Finish(head, attempt))
            {
                return;
            }
        }
    }

    private async Task PumpAsync()
    {
        while (TryTakeHead(out var head, out int behind))
        {
            Outcome attempt;
            try
            {
                attempt = await AttemptAsync(head.Request, behind).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Fail(e);
                return;
            }

            if (!Finish(head, attempt))
            {
                return;
            }
        }
    }

    private bool TryTakeHead(out SharedWaiter head, out int behind)
    {
        lock (_lock)
        {
            _again = false;
            if (_disposed || !TryPeekLiveLocked(out head))
            {
                _pumping = false;
                head = null!;
                behind = 0;
                return false;
            }

            behind = _queued - 1;
            return true;
        }
    }

    /// <summary>Acts on an attempt for <paramref name="head"/>; false when the pump stops (waiting for a kick or its timer).</summary>
    private bool Finish(SharedWaiter head, Outcome attempt)
    {
        GateLease? admitted = null;
        GateLease? orphan = null;
        bool more = true;
        lock (_lock)
        {
            switch (attempt.Kind)
            {
                case AttemptKind.Admitted:
                    var lease = AdmitLocked(attempt, _time.GetElapsedTime(head.EnqueuedAt, attempt.AdmittedAt), head.Request);
                    if (head.IsDone)
                    {
                        // Cancelled (or stopped) while its admission was on the way: give the slot straight back.
                        orphan = lease;
                    }
                    else
                    {
                        head.IsDone = true;
                        _queued--;
                        admitted = lease;
                    }

                    break;
                case AttemptKind.Wait:
                    _slotBound = attempt.SlotBound;
                    if (_again)
                    {
                        break;
                    }

                    // Even a wait already over goes through the timer: the clock may have moved during the round trip, and
                    // the timer's round is the one that keeps up with it.
                    double due = PollPeriod.TotalMilliseconds;
                    if (attempt.AtMs >= 0)
                    {
                        due = Math.Min(due, attempt.AtMs - _gate.NowMs());
                    }

                    _pumping = false;
                    more = false;
                    if (!_disposed)
                    {
                        _timer.Change(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(due))), Timeout.InfiniteTimeSpan);
                    }

                    break;
            }
        }

        if (attempt.Kind == AttemptKind.Stopped)
        {
            StopHere(attempt.Reason!);
        }

        if (admitted is not null)
        {
            head.Registration.Unregister();
            head.TrySetResult(admitted);
        }

        orphan?.Dispose();
        return more;
    }

    /// <summary>A bug, not an absence of Redis: the head's caller hears of it, and the pump stops until kicked.</summary>
    private void Fail(Exception error)
    {
        SharedWaiter? failed = null;
        lock (_lock)
        {
            _pumping = false;
            if (TryPeekLiveLocked(out var head))
            {
                head.IsDone = true;
                _queued--;
                failed = head;
            }
        }

        failed?.TrySetException(error);
        Kick();
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

    /// <summary>One admission attempt, awaited: through Redis when shared, on the local share otherwise.</summary>
    private async ValueTask<Outcome> AttemptAsync(AdmissionRequest request, int waitingBehind)
    {
        if (Elsewhere(request) is { } decided)
        {
            return decided;
        }

        long admittedAt = _time.GetTimestamp();
        var (op, slot, extra) = Call(request, waitingBehind);
        try
        {
            return Parse((RedisResult[])(await EvaluateAsync(op, extra).ConfigureAwait(false))!, slot, admittedAt);
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
            return new Outcome(AttemptKind.Again, admittedAt, 0, 0, false);
        }
    }

    /// <summary>One admission attempt on the caller's thread: for <see cref="TryAcquire"/>, which must answer now, and an idle partition's first caller.</summary>
    private Outcome AttemptNow(AdmissionRequest request, int waitingBehind = -1)
    {
        if (Elsewhere(request) is { } decided)
        {
            return decided;
        }

        long admittedAt = _time.GetTimestamp();
        var (op, slot, extra) = Call(request, waitingBehind);
        try
        {
            return Parse((RedisResult[])Evaluate(op, extra)!, slot, admittedAt);
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
            return new Outcome(AttemptKind.Again, admittedAt, 0, 0, false);
        }
    }

    /// <summary>The attempt when Redis is not where admissions go: on the local share, or nothing while rejoining.</summary>
    private Outcome? Elsewhere(AdmissionRequest request) => _gate.Mode switch
    {
        // What this process admitted alone is being charged: admit nothing until it is (the rejoin kicks the queue).
        GateMode.Rejoining => new Outcome(AttemptKind.Wait, _time.GetTimestamp(), _gate.NowMs(), _gate.NowMs() + 20, false),
        GateMode.Local => AttemptLocal(request),
        _ => null,
    };

    /// <summary>The op and arguments of an admission: a new slot id, its time to live, the costs, how many wait behind.</summary>
    private (string Op, string Slot, RedisValue[] Extra) Call(AdmissionRequest request, int waitingBehind)
    {
        string slot = _gate.NewLeaseId();
        RedisValue[] extra =
        [
            slot, (long)_gate.LeaseTimeToLive.TotalMilliseconds, request.Tokens, request.InputTokens, request.OutputTokens,
            _gate.MemberId, Math.Max(0, waitingBehind),
        ];
        return (waitingBehind < 0 ? "try" : "admit", slot, extra);
    }

    /// <summary>Reads gate.lua's answer: admitted (with the per-day bucket), wait (until when, whether for a slot), or stopped.</summary>
    private Outcome Parse(RedisResult[] r, string slot, long admittedAt)
    {
        string status = (string)r[0]!;
        long nowMs = (long)Number(r[1]);
        switch (status)
        {
            case "stop":
                return new Outcome(AttemptKind.Stopped, admittedAt, nowMs, 0, false) { Reason = StopText((string)r[2]!) };
            case "ok":
                lock (_lock)
                {
                    _dayLeft = (Optional(r[5]), Optional(r[6]));
                }

                return new Outcome(AttemptKind.Admitted, admittedAt, nowMs, nowMs, false)
                {
                    SlotId = slot,
                    DayBucket = long.Parse((string)r[2]!, CultureInfo.InvariantCulture),
                };
            default:
                lock (_lock)
                {
                    _dayLeft = (Optional(r[6]), Optional(r[7]));
                }

                return new Outcome(AttemptKind.Wait, admittedAt, nowMs, Number(r[2]), (string)r[3]! == "1");
        }
    }

    private static double? Optional(RedisResult value) => (string?)value is { Length: > 0 } text ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

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

        return head.Priority > request.Priority
            || (head.Priority == request.Priority && (!request.AtFront || head.Sequence < _nextFrontSequence));
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

    /// <summary>What one attempt came to.</summary>
    private readonly record struct Outcome(AttemptKind Kind, long AdmittedAt, long NowMs, double AtMs, bool SlotBound)
    {
        public string? SlotId { get; init; }

        public long DayBucket { get; init; } = -1;

        public GateLease? Local { get; init; }

        public LocalEpisode? Episode { get; init; }

        public string? Reason { get; init; }
    }
}
