using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// The pump: serves the queue from its head, one attempt at a time, when something may have made room (a release here,
/// an announcement from another process, the timer at the instant the budgets allow, the poll); stops when the head
/// must wait, leaving the timer armed.
/// </summary>
internal sealed partial class SharedPartition
{
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
                    StartedLocked(head.Start);
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
}
