using System.Collections.Concurrent;

namespace Sluice.Mock.Stats;

/// <summary>Lock-free counters for everything <c>GET /mock/stats</c> reports except the budget audit.</summary>
internal sealed class MockStatistics
{
    private readonly ConcurrentDictionary<string, long> _rejected = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _faults = new(StringComparer.Ordinal);
    private long _received;
    private long _accepted;
    private long _succeeded;
    private long _admittedTokens;
    private long _promptTokens;
    private long _completionTokens;
    private int _inFlight;
    private int _peakInFlight;
    private int _admittedInFlight;
    private int _peakAdmittedInFlight;

    public IdTally RequestIds { get; } = new();

    public IdTally CustomIds { get; } = new();

    public int InFlight => Volatile.Read(ref _inFlight);

    public void RequestStarted()
    {
        Interlocked.Increment(ref _received);
        RaisePeak(ref _peakInFlight, Interlocked.Increment(ref _inFlight));
    }

    public void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    public void Admitted(long tokens)
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Add(ref _admittedTokens, tokens);
        RaisePeak(ref _peakAdmittedInFlight, Interlocked.Increment(ref _admittedInFlight));
    }

    public void AdmittedEnded() => Interlocked.Decrement(ref _admittedInFlight);

    public void Rejected(string reason) => _rejected.AddOrUpdate(reason, 1, static (_, n) => n + 1);

    public void Fault(string kind) => _faults.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public void Succeeded(long promptTokens, long completionTokens, string? requestId, string? customId)
    {
        Interlocked.Increment(ref _succeeded);
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _completionTokens, completionTokens);
        if (requestId is not null)
        {
            RequestIds.Succeeded(requestId);
        }

        if (customId is not null)
        {
            CustomIds.Succeeded(customId);
        }
    }

    /// <summary>Zeroes the counts. Requests in flight stay counted, so the peaks restart from them.</summary>
    public void Reset()
    {
        _rejected.Clear();
        _faults.Clear();
        RequestIds.Clear();
        CustomIds.Clear();
        Interlocked.Exchange(ref _received, 0);
        Interlocked.Exchange(ref _accepted, 0);
        Interlocked.Exchange(ref _succeeded, 0);
        Interlocked.Exchange(ref _admittedTokens, 0);
        Interlocked.Exchange(ref _promptTokens, 0);
        Interlocked.Exchange(ref _completionTokens, 0);
        Interlocked.Exchange(ref _peakInFlight, Volatile.Read(ref _inFlight));
        Interlocked.Exchange(ref _peakAdmittedInFlight, Volatile.Read(ref _admittedInFlight));
    }

    public MockStats Snapshot(MockBudgetViolations violations, MockLimits limits) => new()
    {
        Received = Interlocked.Read(ref _received),
        Accepted = Interlocked.Read(ref _accepted),
        Succeeded = Interlocked.Read(ref _succeeded),
        Rejected = new SortedDictionary<string, long>(_rejected, StringComparer.Ordinal),
        Faults = new SortedDictionary<string, long>(_faults, StringComparer.Ordinal),
        InFlight = Volatile.Read(ref _inFlight),
        PeakInFlight = Volatile.Read(ref _peakInFlight),
        PeakAdmittedInFlight = Volatile.Read(ref _peakAdmittedInFlight),
        AdmittedTokens = Interlocked.Read(ref _admittedTokens),
        PromptTokens = Interlocked.Read(ref _promptTokens),
        CompletionTokens = Interlocked.Read(ref _completionTokens),
        RequestIds = RequestIds.Snapshot(),
        CustomIds = CustomIds.Snapshot(),
        BudgetViolations = violations,
        Limits = limits,
    };

    private static void RaisePeak(ref int peak, int value)
    {
        var current = Volatile.Read(ref peak);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref peak, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
