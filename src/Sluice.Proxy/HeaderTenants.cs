using System.Diagnostics;

namespace Sluice.Proxy;

/// <summary>
/// The ad-hoc tenants named by the tenant header: at most <c>capacity</c> at once, since clients choose the names.
/// One with no request in progress is forgotten first (least recently used) to make room; when every one is busy a
/// new name is refused (the caller answers 429). One lock; nothing but the table's own bookkeeping runs under it.
/// </summary>
internal sealed class HeaderTenants(int capacity, Func<string, TenantAccount> create)
{
    private readonly Dictionary<string, LinkedListNode<TenantAccount>> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly LinkedList<TenantAccount> _recency = new();
    private readonly Lock _lock = new();

    /// <summary>Tenants held now.</summary>
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

    /// <summary>
    /// The tenant named <paramref name="name"/>, made if absent, with one more request held (<see cref="TenantAccount.Enter"/>):
    /// entering under the lock is what keeps a tenant in use from being forgotten. Null when the table is full and
    /// every tenant in it has a request in progress.
    /// </summary>
    public TenantAccount? Enter(string name)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(name, out var node))
            {
                _recency.Remove(node);
                _recency.AddFirst(node);
                node.Value.Enter();
                return node.Value;
            }

            if (_entries.Count >= capacity && !ForgetIdle())
            {
                return null;
            }

            var account = create(name);
            _entries[name] = _recency.AddFirst(account);
            account.Enter();
            Debug.Assert(_entries.Count == _recency.Count && _entries.Count <= capacity, "the table and its order hold the same tenants, within the bound");
            return account;
        }
    }

    /// <summary>The tenants held now, most recently used first.</summary>
    public IReadOnlyList<TenantAccount> Snapshot()
    {
        lock (_lock)
        {
            return [.. _recency];
        }
    }

    // The least recently used tenant with nothing in progress; false when every one is busy.
    private bool ForgetIdle()
    {
        for (var node = _recency.Last; node is not null; node = node.Previous)
        {
            if (node.Value.InFlight == 0)
            {
                _recency.Remove(node);
                _entries.Remove(node.Value.Name);
                return true;
            }
        }

        return false;
    }
}
