using System.Collections.Concurrent;

namespace Sluice.Mock.Stats;

/// <summary>Counts requests and successes per client-supplied id.</summary>
internal sealed class IdTally
{
    private readonly ConcurrentDictionary<string, Counter> _ids = new(StringComparer.Ordinal);

    public void Received(string id) => Interlocked.Increment(ref _ids.GetOrAdd(id, static _ => new Counter()).Received);

    public void Succeeded(string id) => Interlocked.Increment(ref _ids.GetOrAdd(id, static _ => new Counter()).Succeeded);

    public void Clear() => _ids.Clear();

    public MockIdCounts Snapshot()
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        var duplicateSuccesses = 0;
        foreach (var (id, counter) in _ids)
        {
            var received = Volatile.Read(ref counter.Received);
            counts[id] = received;
            total += received;
            if (Volatile.Read(ref counter.Succeeded) > 1)
            {
                duplicateSuccesses++;
            }
        }

        return new MockIdCounts
        {
            Total = total,
            Distinct = counts.Count,
            DuplicateSuccesses = duplicateSuccesses,
            Counts = counts,
        };
    }

    private sealed class Counter
    {
        public int Received;
        public int Succeeded;
    }
}
