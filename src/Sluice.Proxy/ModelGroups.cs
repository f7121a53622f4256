using System.Collections.Concurrent;

namespace Sluice.Proxy;

/// <summary>
/// Which models an upstream does not list get a partition of their own. A model name comes from the request body, so
/// the number of them is bounded (<see cref="SluiceProxyOptions.MaxModels"/>): the first ones seen each get their own
/// group, as a listed model does; once that many are in use, further ones share one group, <see cref="Unlisted"/>, and
/// its budgets, until a model has gone unused for the idle timeout and its place is free again. Nothing is refused.
/// </summary>
internal sealed class ModelGroups(int max, TimeSpan idleTimeout, TimeProvider time)
{
    /// <summary>The group of unlisted models beyond the bound; not a valid model name, so no model can take it.</summary>
    public const string Unlisted = "(unlisted)";

    private readonly ConcurrentDictionary<string, long> _lastUsed = new(StringComparer.Ordinal);
    private int _count;
    private long _lastPrune = long.MinValue;

    /// <summary>Models with a group of their own now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The model group of an unlisted, valid model: itself, or <see cref="Unlisted"/> when the table is full.</summary>
    public string GroupOf(string model)
    {
        long now = time.GetTimestamp();
        if (Touch(model, now) || TryAdd(model, now))
        {
            return model;
        }

        Prune(now);
        return TryAdd(model, now) ? model : Unlisted;
    }

    private bool Touch(string model, long now) =>
        _lastUsed.TryGetValue(model, out long last) && (last >= now || _lastUsed.TryUpdate(model, now, last));

    private bool TryAdd(string model, long now)
    {
        if (Interlocked.Increment(ref _count) > max)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        if (!_lastUsed.TryAdd(model, now))
        {
            Interlocked.Decrement(ref _count);
        }

        return true;
    }

    /// <summary>Frees the places of models unused for the idle timeout; at most once a second, so a stream of new names cannot make every request scan.</summary>
    private void Prune(long now)
    {
        long last = Interlocked.Read(ref _lastPrune);
        if ((last != long.MinValue && time.GetElapsedTime(last, now) < TimeSpan.FromSeconds(1)) || Interlocked.CompareExchange(ref _lastPrune, now, last) != last)
        {
            return;
        }

        foreach (var (model, used) in _lastUsed)
        {
            if (time.GetElapsedTime(used, now) >= idleTimeout && _lastUsed.TryRemove(KeyValuePair.Create(model, used)))
            {
                Interlocked.Decrement(ref _count);
            }
        }
    }
}
