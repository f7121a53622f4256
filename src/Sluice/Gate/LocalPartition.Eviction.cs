namespace Sluice.Gate;

/// <summary>
/// What the gate needs to remove a partition nobody uses: a look-up marks it used, and a partition is retired only
/// under its own lock, when it holds nothing (no lease, no waiter, no pause) and nobody has looked it up for the idle
/// time. A retired partition is never handed out again; a caller still holding it (a job in a long backoff) keeps a
/// working partition of its own until its job ends, and the gate makes a fresh one for everyone else.
/// </summary>
internal sealed partial class LocalPartition
{
    private long _lastLookup;
    private bool _retired;

    /// <summary>Marks the partition as looked up now; false once it is retired (the caller must get a new one).</summary>
    internal bool Touch()
    {
        lock (_lock)
        {
            if (_retired)
            {
                return false;
            }

            _lastLookup = _time.GetTimestamp();
            return true;
        }
    }

    /// <summary>Retires the partition if it holds nothing and has been idle for <paramref name="idleFor"/>.</summary>
    internal bool TryRetire(TimeSpan idleFor)
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            if (_retired || _inFlight != 0 || _queued != 0 || _pausedUntil > now)
            {
                return false;
            }

            if (_time.GetElapsedTime(Math.Max(_idleSince, _lastLookup), now) < idleFor)
            {
                return false;
            }

            _retired = true;
            return true;
        }
    }
}
