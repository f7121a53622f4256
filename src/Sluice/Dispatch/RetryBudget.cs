using Sluice.Gate;

namespace Sluice.Dispatch;

/// <summary>
/// Per-partition limit on retries, after the SRE book's retry budgets: each first attempt deposits a fraction of a
/// retry, and a trickle refills it over time, so retries can never multiply the load on a failing provider.
/// A retry that finds it empty waits, computed, not polled.
/// </summary>
internal sealed class RetryBudget
{
    private readonly object _lock = new();
    private readonly TimeProvider _time;
    private readonly double _ratio;
    private TokenBucket _bucket;

    public RetryBudget(DispatcherOptions options, TimeProvider time)
    {
        _time = time;
        _ratio = options.RetryBudgetRatio;
        _bucket = new TokenBucket(options.MinRetriesPerSecond, options.RetryBudgetBurst, time.GetTimestamp(), time.TimestampFrequency);
    }

    /// <summary>Records a first attempt, earning a share of a retry.</summary>
    public void Deposit()
    {
        lock (_lock)
        {
            _bucket.Refill(_time.GetTimestamp());
            _bucket.Adjust(-_ratio);
        }
    }

    /// <summary>Takes one retry from the budget if there is one now, for a hedge, which is worth starting only at once.</summary>
    public bool TryWithdraw()
    {
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            _bucket.Refill(now);
            if (_bucket.TimeUntil(1, now) != TimeSpan.Zero)
            {
                return false;
            }

            _bucket.Spend(1);
            return true;
        }
    }

    /// <summary>Takes one retry from the budget, waiting until there is one.</summary>
    public async ValueTask WithdrawAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            lock (_lock)
            {
                long now = _time.GetTimestamp();
                _bucket.Refill(now);
                wait = _bucket.TimeUntil(1, now);
                if (wait == TimeSpan.Zero)
                {
                    _bucket.Spend(1);
                    return;
                }
            }

            // Timers count whole milliseconds and fire a shorter wait at once: rounded down, a wait would end early and
            // leave a sub-millisecond remainder that loops without waiting (for ever, on a clock that is not moving).
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _time, cancellationToken).ConfigureAwait(false);
        }
    }
}
