namespace Sluice.Gate;

/// <summary>
/// A partition's one timer: armed for the instant the head waiter can start, made on first use. Decisions are
/// numbered under the partition's lock and applied after it, so a decision overtaken by a newer one never re-arms it.
/// </summary>
internal sealed class WakeTimer(TimeProvider time, Action wake) : IDisposable
{
    private readonly object _lock = new();
    private ITimer? _timer;
    private long _appliedVersion;
    private bool _disposed;

    /// <summary>Arms the timer to fire after <paramref name="delay"/>, unless decision <paramref name="version"/> is not the newest applied.</summary>
    public void Arm(long version, TimeSpan delay)
    {
        // Whole milliseconds, rounded up: a timer that fires early finds nothing to admit and must be armed again.
        var due = TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(delay.TotalMilliseconds)));
        lock (_lock)
        {
            if (_disposed || version <= _appliedVersion)
            {
                return;
            }

            _appliedVersion = version;
            _timer ??= time.CreateTimer(static state => ((Action)state!)(), wake, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Stops the timer for good; later decisions arm nothing.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
