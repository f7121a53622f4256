namespace Sluice.Proxy;

/// <summary>
/// Measures how long one request has waited for its turn — at the gate, in a throttle pause, in a retry backoff —
/// and cancels <see cref="Token"/> once that exceeds the proxy's <c>--max-wait</c>. The clock stops while an attempt
/// is with the upstream: a long generation is work, not waiting.
/// </summary>
internal sealed class WaitClock : IDisposable
{
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _expired;
    private readonly object _lock = new();
    private TimeSpan _left;
    private long _runningSince;
    private bool _running;

    public WaitClock(TimeSpan maxWait, TimeProvider time)
    {
        _time = time;
        _left = maxWait;
        _expired = new CancellationTokenSource(maxWait, time);
        _runningSince = time.GetTimestamp();
        _running = true;
    }

    /// <summary>Cancelled when the request has waited longer than allowed.</summary>
    public CancellationToken Token => _expired.Token;

    public bool Expired => _expired.IsCancellationRequested;

    /// <summary>An attempt starts: waiting stops counting.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            if (!_running || _expired.IsCancellationRequested)
            {
                return;
            }

            _left -= _time.GetElapsedTime(_runningSince);
            _running = false;
            _expired.CancelAfter(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>The request waits again (after a throttle or a transient failure): counting resumes where it stopped.</summary>
    public void Resume()
    {
        lock (_lock)
        {
            if (_running || _expired.IsCancellationRequested)
            {
                return;
            }

            _running = true;
            _runningSince = _time.GetTimestamp();
            if (_left <= TimeSpan.Zero)
            {
                _expired.Cancel();
            }
            else
            {
                _expired.CancelAfter(_left);
            }
        }
    }

    public void Dispose() => _expired.Dispose();
}
