using System.Diagnostics;
using Sluice.Dispatch;

namespace Sluice.Proxy.Dashboard;

/// <summary>
/// What the proxy's tries did over the last <see cref="Seconds"/> seconds, one bucket per second (admitted, answered,
/// throttled, retries; every upstream together), and each upstream's throttles and retries since the start: the
/// dashboard's chart and the status's <c>history</c>. A try is counted when it ends, in the second its end is read
/// from the clock: no timer runs, and a second nothing happened in is never written (nor listed). The ring is fixed in
/// size; the upstreams are the configured ones. One lock, held only for a few additions.
/// </summary>
internal sealed class ProxyHistory
{
    /// <summary>How far back the history reaches: five minutes of seconds.</summary>
    public const int Seconds = 300;

    private readonly TimeProvider _time;
    private readonly Bucket[] _ring = new Bucket[Seconds];
    private readonly Dictionary<string, UpstreamTotals> _upstreams;
    private readonly Lock _lock = new();

    public ProxyHistory(TimeProvider time, IEnumerable<string> upstreams)
    {
        _time = time;
        _upstreams = upstreams.Distinct(StringComparer.OrdinalIgnoreCase).ToDictionary(name => name, _ => new UpstreamTotals(), StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < _ring.Length; i++)
        {
            _ring[i].Second = long.MinValue;
        }
    }

    /// <summary>
    /// Counts one try that ended: it was admitted; its answer was final (anything but a throttle or a transient
    /// failure), or a throttle (429 rate limit, 529 overloaded); and it was a retry when it was not its request's first.
    /// </summary>
    /// <param name="upstream">The upstream it was sent to.</param>
    /// <param name="kind">How it ended.</param>
    /// <param name="retry">True for a request's second or later try.</param>
    public void TryEnded(string upstream, AttemptOutcomeKind kind, bool retry)
    {
        bool throttled = kind == AttemptOutcomeKind.Throttled;
        bool answered = kind is not (AttemptOutcomeKind.Throttled or AttemptOutcomeKind.Transient);
        if (_upstreams.TryGetValue(upstream, out var totals))
        {
            if (throttled)
            {
                Interlocked.Increment(ref totals.Throttled);
            }

            if (retry)
            {
                Interlocked.Increment(ref totals.Retries);
            }
        }

        long second = _time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            ref var bucket = ref _ring[Slot(second)];
            if (bucket.Second < second)
            {
                // The slot last held a second at least five minutes older: this second starts afresh.
                bucket = new Bucket { Second = second };
            }
            else if (bucket.Second > second)
            {
                // The wall clock stepped back past a whole ring: a second already overwritten is not rewritten.
                return;
            }

            bucket.Admitted++;
            bucket.Answered += answered ? 1 : 0;
            bucket.Throttled += throttled ? 1 : 0;
            bucket.Retries += retry ? 1 : 0;
            Debug.Assert(bucket.Answered + bucket.Throttled <= bucket.Admitted, "A try is answered or throttled at most once.");
        }
    }

    /// <summary>One upstream's throttles and retries since the start; zeros for a name not configured.</summary>
    public (long Throttled, long Retries) TotalsOf(string upstream) =>
        _upstreams.TryGetValue(upstream, out var totals) ? (Interlocked.Read(ref totals.Throttled), Interlocked.Read(ref totals.Retries)) : (0, 0);

    /// <summary>
    /// The seconds of the last <see cref="Seconds"/> (the current one so far included) in which a try ended, oldest
    /// first: at most <see cref="Seconds"/> points, and none for an idle proxy, so the status stays small.
    /// </summary>
    public HistoryStatus Snapshot()
    {
        long now = _time.GetUtcNow().ToUnixTimeSeconds();
        var points = new List<HistoryPoint>();
        lock (_lock)
        {
            for (long second = now - Seconds + 1; second <= now; second++)
            {
                var bucket = _ring[Slot(second)];
                if (bucket.Second == second)
                {
                    points.Add(new HistoryPoint(second, bucket.Admitted, bucket.Answered, bucket.Throttled, bucket.Retries));
                }
            }
        }

        return new HistoryStatus(1, points);
    }

    private static int Slot(long second) => (int)(((second % Seconds) + Seconds) % Seconds);

    private struct Bucket
    {
        public long Second;
        public long Admitted;
        public long Answered;
        public long Throttled;
        public long Retries;
    }

    private sealed class UpstreamTotals
    {
        public long Throttled;
        public long Retries;
    }
}
