using System.Collections.Concurrent;

namespace Sluice.Efficiency.Runners;

/// <summary>What a row's client saw: attempts it put on the wire, per request, and requests that ended well. Thread-safe.</summary>
internal sealed class ClientTally
{
    private readonly ConcurrentDictionary<string, int> _attemptsByRequest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _lossReasons = new(StringComparer.Ordinal);
    private long _attempts;
    private long _succeeded;
    private long _ended;

    /// <summary>Attempts sent on the wire, retries and re-sends after a 429 included.</summary>
    public long Attempts => Interlocked.Read(ref _attempts);

    /// <summary>
    /// Attempts beyond the first for each request that went on the wire at all, whatever caused them (a 429, an
    /// error, a timeout). A request that never reached the wire (a circuit breaker failing it fast) adds nothing.
    /// </summary>
    public long Retries => Attempts - _attemptsByRequest.Count;

    /// <summary>Requests that ended with a 2xx and a well-formed body.</summary>
    public long Succeeded => Interlocked.Read(ref _succeeded);

    public void CountAttempt(string requestId)
    {
        Interlocked.Increment(ref _attempts);
        _attemptsByRequest.AddOrUpdate(requestId, 1, static (_, count) => count + 1);
    }

    /// <summary>Requests that ended, well or not; the rest were still going when the row's time cap stopped it.</summary>
    public long Ended => Interlocked.Read(ref _ended);

    /// <summary>Why requests were lost: the final status, or the exception the caller got; most frequent first.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> LossReasons =>
        [.. _lossReasons.OrderByDescending(reason => reason.Value).ThenBy(reason => reason.Key, StringComparer.Ordinal)];

    /// <summary>Counts a request that ended: well when <paramref name="lossReason"/> is null, else lost for that reason.</summary>
    public void CountEnd(string? lossReason)
    {
        Interlocked.Increment(ref _ended);
        if (lossReason is null)
        {
            Interlocked.Increment(ref _succeeded);
        }
        else
        {
            _lossReasons.AddOrUpdate(lossReason, 1, static (_, count) => count + 1);
        }
    }
}
