using System.Globalization;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// The queue of this process and its pump: one attempt at a time for the head (so priority and arrival order hold
/// here), through Redis when shared, through the local share otherwise. An attempt is one synchronous round trip
/// (bounded by <see cref="RedisGateOptions.OperationTimeout"/>), made on the thread that has reason to make it: the
/// caller who found the queue idle, the partition's timer, the thread that completed a release. So a clock that jumps
/// (a test's fake clock) sees every admission it allows before it moves on, and an uncontended admission costs one
/// round trip and no thread hop.
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
            Pump(until: waiter);
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
            var attempt = Attempt(request, waitingBehind: -1);
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

    /// <summary>Retries the head: after a release, a refund, a message from another process, a timer, a change of mode.</summary>
    internal void Kick(bool synchronous)
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

        if (synchronous)
        {
            Pump(until: null);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(static partition => partition.Pump(until: null), this, preferLocal: false);
        }
    }

    /// <summary>
    /// Serves the queue from its head on this thread while every limit allows, one Redis round trip per attempt. A
    /// caller that started it (<paramref name="until"/>) serves until its own turn is decided, then hands the rest to
    /// the thread pool, so no caller serves a stream of others.
    /// </summary>
    private void Pump(SharedWaiter? until)
    {
        while (TryTakeHead(out var head, out int behind))
        {
            if (until is not null && until.Task.IsCompleted)
            {
                lock (_lock)
                {
                    _pumping = false;
                }

                Kick(synchronous: false);
                return;
            }

            Outcome attempt;
            try
            {
                attempt = Attempt(head.Request, behind);
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

                    double due = PollPeriod.TotalMilliseconds;
                    if (attempt.AtMs >= 0)
                    {
                        due = Math.Min(due, attempt.AtMs - _gate.NowMs());
                    }

                    if (due <= 0)
                    {
                        break;
                    }

                    _pumping = false;
                    more = false;
                    if (!_disposed)
                    {
                        _timer.Change(TimeSpan.FromMilliseconds(Math.Ceiling(due)), Timeout.InfiniteTimeSpan);
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
        Kick(synchronous: false);
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

    /// <summary>One admission attempt: through Redis when shared, on the local share otherwise.</summary>
    private Outcome Attempt(AdmissionRequest request, int waitingBehind)
    {
        switch (_gate.Mode)
        {
            case GateMode.Rejoining:
                // What this process admitted alone is being charged: admit nothing until it is.
                return new Outcome(AttemptKind.Wait, _time.GetTimestamp(), _gate.NowMs(), _gate.NowMs() + 20, false);
            case GateMode.Local:
                return AttemptLocal(request);
        }

        long admittedAt = _time.GetTimestamp();
        string slot = _gate.NewLeaseId();
        RedisValue[] extra =
        [
            slot, (long)_gate.LeaseTimeToLive.TotalMilliseconds, request.Tokens, request.InputTokens, request.OutputTokens,
            _gate.MemberId, Math.Max(0, waitingBehind),
        ];
        string op = waitingBehind < 0 ? "try" : "admit";
        RedisResult[] r;
        try
        {
            r = (RedisResult[])Evaluate(op, extra)!;
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
            return new Outcome(AttemptKind.Again, admittedAt, 0, 0, false);
        }

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
        Kick(synchronous: false);
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
