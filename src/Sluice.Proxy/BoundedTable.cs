using System.Diagnostics;

namespace Sluice.Proxy;

/// <summary>
/// A table of at most <c>capacity</c> entries made on first use (one spend cap per client fingerprint), the least
/// recently used dropped when a new one needs room: a proxy's clients choose their keys, so what is kept for them is
/// bounded. One lock; the factory must be quick and pure (it only builds an object), and nothing else runs under it.
/// </summary>
internal sealed class BoundedTable<TValue>
    where TValue : class
{
    private readonly int _capacity;
    private readonly Func<string, TValue> _create;
    private readonly Dictionary<string, LinkedListNode<(string Key, TValue Value)>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<(string Key, TValue Value)> _recency = new();
    private readonly Lock _lock = new();
    private long _dropped;

    public BoundedTable(int capacity, Func<string, TValue> create)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _create = create;
    }

    /// <summary>Entries held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Entries dropped to make room since the start.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The entry for <paramref name="key"/>, made if absent, now the most recently used.</summary>
    public TValue Get(string key)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                return node.Value.Value;
            }

            if (_entries.Count >= _capacity)
            {
                var oldest = _recency.Last!;
                _recency.RemoveLast();
                _entries.Remove(oldest.Value.Key);
                Interlocked.Increment(ref _dropped);
            }

            var added = _recency.AddFirst((key, _create(key)));
            _entries[key] = added;
            Debug.Assert(_entries.Count == _recency.Count && _entries.Count <= _capacity, "the table and its order hold the same entries, within the bound");
            return added.Value.Value;
        }
    }

    /// <summary>The entries held now, most recently used first.</summary>
    public IReadOnlyList<(string Key, TValue Value)> Snapshot()
    {
        lock (_lock)
        {
            return [.. _recency];
        }
    }
}
