using Sluice.Mock.Limits;

namespace Sluice.Mock.Stats;

/// <summary>
/// The independent check that the mock never admits more than its budgets: a <see cref="WindowAudit"/> per
/// budget and its own count of requests in flight. Its numbers must stay 0; later benchmarks rely on it to
/// prove that Sluice, not a lenient mock, kept within the budget.
/// </summary>
internal sealed class BudgetAudit : IAdmissionObserver
{
    private readonly Lock _lock = new();
    private readonly WindowAudit[] _windows;
    private int? _maxConcurrency;
    private int _inFlight;
    private long _concurrencyViolations;

    public BudgetAudit(TimeSpan window, long timestampFrequency)
    {
        _windows = new WindowAudit[LimitDimensions.Count];
        for (var i = 0; i < _windows.Length; i++)
        {
            _windows[i] = new WindowAudit(window, timestampFrequency);
        }
    }

    public void Admitted(long timestamp, RequestCost cost)
    {
        lock (_lock)
        {
            foreach (var dimension in LimitDimensions.All)
            {
                if (cost.For(dimension) is long amount)
                {
                    _windows[(int)dimension].Record(timestamp, amount);
                }
            }

            _inFlight++;
            if (_inFlight > _maxConcurrency)
            {
                _concurrencyViolations++;
            }
        }
    }

    public void Released()
    {
        lock (_lock)
        {
            _inFlight--;
        }
    }

    public void Refunded(long timestamp, LimitDimension dimension, long amount)
    {
        lock (_lock)
        {
            _windows[(int)dimension].Refund(timestamp, amount);
        }
    }

    public void LimitsChanged(long timestamp, MockLimits limits)
    {
        lock (_lock)
        {
            foreach (var dimension in LimitDimensions.All)
            {
                _windows[(int)dimension].Configure(timestamp, limits.PerMinute(dimension), limits.Burst);
            }

            // Lowering the limit does not end requests already in flight; the next admission is what must respect it.
            _maxConcurrency = limits.MaxConcurrency;
        }
    }

    public void BucketsRefilled(long timestamp)
    {
        lock (_lock)
        {
            foreach (var window in _windows)
            {
                window.Restart(timestamp);
            }
        }
    }

    public MockBudgetViolations Snapshot()
    {
        lock (_lock)
        {
            return new MockBudgetViolations
            {
                Requests = _windows[(int)LimitDimension.Requests].Violations,
                Tokens = _windows[(int)LimitDimension.Tokens].Violations,
                InputTokens = _windows[(int)LimitDimension.InputTokens].Violations,
                OutputTokens = _windows[(int)LimitDimension.OutputTokens].Violations,
                Concurrency = _concurrencyViolations,
            };
        }
    }

    public void ResetViolations()
    {
        lock (_lock)
        {
            foreach (var window in _windows)
            {
                window.ResetViolations();
            }

            _concurrencyViolations = 0;
        }
    }
}
