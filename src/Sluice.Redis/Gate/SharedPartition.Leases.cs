using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// Leases: a slot in Redis is a member of the partition's slots set whose score is its expiry. This process renews all
/// the slots it holds on a partition with one call every third of <see cref="RedisGateOptions.LeaseTimeToLive"/>; a
/// process that dies stops renewing, and its slots expire by themselves. A lease admitted on the local share is
/// released and settled there.
/// </summary>
internal sealed partial class SharedPartition
{
    // Slots this process holds in Redis (its own admissions, and stand-ins for local leases once rejoined).
    private readonly HashSet<string> _held = new(StringComparer.Ordinal);

    protected override void OnLeaseReleased(GateLease lease)
    {
        if (!_records.TryGetValue(lease, out var record))
        {
            return;
        }

        string? slot = record.SlotId;
        if (record.Local is { } local)
        {
            local.Dispose();
            lock (_lock)
            {
                _localHeld.Remove(record);
                if (slot is not null)
                {
                    _held.Remove(slot);
                }
            }

            if (slot is not null && _gate.Mode == GateMode.Shared)
            {
                _ = CallAsync("release", [slot], kick: true);
            }
            else
            {
                Kick();
            }

            return;
        }

        lock (_lock)
        {
            _held.Remove(slot!);
        }

        if (_gate.Mode == GateMode.Shared)
        {
            bool kick;
            lock (_lock)
            {
                // Only a waiter held back by the slots gains from a release; one waiting for a budget has its timer.
                kick = _slotBound;
            }

            _ = CallAsync("release", [slot!], kick);
        }
        else
        {
            // Redis is away: the slot expires there by itself; here, the local share may use one more slot.
            if (Local(out var partition, out var share))
            {
                partition.ConcurrencyLimit = LocalConcurrency(share, Volatile.Read(ref _concurrency));
            }

            Kick();
        }
    }

    protected override void OnLeaseSettled(GateLease lease, BudgetDimension dimension, long actual, long previous)
    {
        long delta = actual - previous;
        if (delta == 0 || !_records.TryGetValue(lease, out var record))
        {
            return;
        }

        if (record.Local is { } local)
        {
            local.Settle(dimension, actual);
            if (dimension == BudgetDimension.Tokens)
            {
                lock (_localLock)
                {
                    if (ReferenceEquals(_localState?.Episode, record.Episode))
                    {
                        _localTokens += delta;
                    }
                }
            }

            if (delta < 0)
            {
                Kick();
            }

            return;
        }

        if (_gate.Mode != GateMode.Shared)
        {
            // Redis is away: a settlement of a lease it admitted cannot be applied (the reservation stands).
            return;
        }

        _ = CallAsync("settle", [(int)dimension, delta, dimension == BudgetDimension.Tokens ? record.DayBucket : -1], kick: delta < 0);
    }

    /// <summary>
    /// Renews every slot this process holds here, in one call. Rejoining, slots missing from Redis (it came back empty)
    /// are registered again, so what runs still counts against the concurrency.
    /// </summary>
    internal async Task RenewAsync(bool rejoining)
    {
        string[] held;
        lock (_lock)
        {
            if (_held.Count == 0)
            {
                return;
            }

            held = [.. _held];
        }

        var extra = new StackExchange.Redis.RedisValue[2 + held.Length];
        extra[0] = (long)_gate.LeaseTimeToLive.TotalMilliseconds;
        extra[1] = rejoining ? "1" : "0";
        for (int i = 0; i < held.Length; i++)
        {
            extra[2 + i] = held[i];
        }

        await EvaluateAsync("renew", extra).ConfigureAwait(false);
    }
}
