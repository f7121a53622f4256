using Sluice.Adaptive;
using Sluice.Gate;

namespace Sluice.Redis.Gate;

/// <summary>
/// The local share: while Redis cannot be reached, the partition admits through an in-process partition holding 1/N
/// of each budget and of the concurrency, made when first needed in each episode. It starts with its buckets empty,
/// its per-day budgets capped at 1/N of what Redis last said was left, the pause and stop known here, and the
/// concurrency less the Redis slots this process still holds. Rejoining, it charges Redis with what it admitted
/// alone (what each bucket has not refilled, what each day counted) and registers its local leases' slots.
/// </summary>
/// <remarks>
/// The in-process partition never hears the dispatcher: outcomes and headers reach this partition, which passes on what
/// the provider states (its rates, which the local share learns and paces by) and sets the share's concurrency itself.
/// While no rate paces the share (none configured, none stated yet), one request goes alone until an answer comes
/// back, then one more may go per success and a 429 halves it (a slow start, as the in-process gate's adaptive
/// concurrency does); once a rate is known the buckets pace, so the share's whole concurrency is allowed. Budgets
/// learned through Redis before it went away are carried over, their buckets empty.
/// </remarks>
internal sealed partial class SharedPartition
{
    private static readonly BudgetDimension[] RateDimensions =
        [BudgetDimension.Requests, BudgetDimension.Tokens, BudgetDimension.InputTokens, BudgetDimension.OutputTokens];

    private readonly object _localLock = new();
    private readonly HashSet<LeaseRecord> _localHeld = [];
    private readonly long?[] _stated = new long?[6];
    private (double? Requests, double? Tokens) _dayLeft;
    private LocalState? _localState;
    private long _localRequests;
    private long _localTokens;

    // The local share's in-flight limit while no rate paces it (see the remarks); guarded by _localLock.
    private int _localLimit = 1;

    /// <summary>The local partition of the current episode, made if needed; false while shared (or rejoining).</summary>
    private bool Local(out GatePartition partition, out PartitionLimits share)
    {
        var episode = _gate.Mode == GateMode.Local ? _gate.Episode : null;
        if (episode is null)
        {
            partition = null!;
            share = null!;
            return false;
        }

        (partition, share) = LocalFor(episode);
        return true;
    }

    private (GatePartition Partition, PartitionLimits Share) LocalFor(LocalEpisode episode)
    {
        lock (_localLock)
        {
            if (_localState is { } current && ReferenceEquals(current.Episode, episode))
            {
                return (current.Partition, current.Share);
            }

            PartitionLimits limits;
            long?[] stated;
            string? stop;
            long pausedUntil;
            (double? Requests, double? Tokens) dayLeft;
            lock (_lock)
            {
                limits = _limits;
                stop = _stopReason;
                pausedUntil = _pausedUntilMs;
                dayLeft = _dayLeft;
                stated = (long?[])_stated.Clone();
            }

            int members = Math.Max(1, episode.Members);
            var share = LimitArguments.Share(limits, members, Volatile.Read(ref _concurrency));
            var partition = episode.Gate.GetPartition(Key);
            partition.UpdateLimits(share);
            var now = _time.GetUtcNow();

            // Empty buckets: what this process (and the others) admitted through Redis just before still counts. A rate
            // the provider stated is this process's part of it, as when it is stated while Redis is away (Observe):
            // without it a budget learned from headers, the common case, would not pace the share at all.
            foreach (var dimension in RateDimensions)
            {
                long? part = share.LearnBudgets && stated[(int)dimension] is { } limit ? Math.Max(1, limit / members) : null;
                partition.ObserveBudget(dimension, 0, now + TimeSpan.FromMinutes(1), part);
            }

            if (share.RequestsPerDay is { } requestsPerDay)
            {
                partition.ObserveBudget(BudgetDimension.RequestsPerDay, (long)Math.Max(0, (dayLeft.Requests ?? requestsPerDay * members) / members), now + TimeSpan.FromDays(1));
            }

            if (share.TokensPerDay is { } tokensPerDay)
            {
                partition.ObserveBudget(BudgetDimension.TokensPerDay, (long)Math.Max(0, (dayLeft.Tokens ?? tokensPerDay * members) / members), now + TimeSpan.FromDays(1));
            }

            if (pausedUntil > now.ToUnixTimeMilliseconds())
            {
                partition.PauseUntil(DateTimeOffset.FromUnixTimeMilliseconds(pausedUntil));
            }

            if (stop is not null)
            {
                partition.Stop(stop);
            }

            _localLimit = 1;
            partition.ConcurrencyLimit = LocalConcurrency(share, Volatile.Read(ref _concurrency));
            _localRequests = 0;
            _localTokens = 0;
            _localState = new LocalState(episode, partition, share);
            return (partition, share);
        }
    }

    /// <summary>The partition seen from here while Redis is away: the local share's state, with this process's waiters and Redis slots.</summary>
    private PartitionSnapshot LocalSnapshot()
    {
        int queued;
        int held;
        string? stop;
        lock (_lock)
        {
            queued = _queued;
            held = _held.Count;
            stop = _stopReason;
        }

        var episode = _gate.Episode;
        if (episode is null)
        {
            return new PartitionSnapshot(Key, held, queued, Volatile.Read(ref _concurrency), null, null, null, stop);
        }

        var local = LocalFor(episode).Partition.GetSnapshot();
        return local with { Key = Key, InFlight = local.InFlight + held, Queued = queued };
    }

    /// <summary>
    /// The local share's concurrency: 1/N of the limit, less the Redis slots this process still holds, at least 1; while
    /// no rate paces the share, no more than the slow start allows.
    /// </summary>
    private int LocalConcurrency(PartitionLimits share, int limit)
    {
        int members = Math.Max(1, _gate.Episode?.Members ?? 1);
        int held;
        bool paced;
        lock (_lock)
        {
            held = _held.Count;
            paced = PacedLocked(share);
        }

        int full = Math.Max(1, (members <= 1 ? limit : Math.Max(1, limit / members)) - held);
        return paced ? full : Math.Min(full, Volatile.Read(ref _localLimit));
    }

    /// <summary>Whether a rate paces the local share: one configured, or (learning) one the provider stated.</summary>
    private bool PacedLocked(PartitionLimits share) =>
        share.RequestsPerWindow is not null || share.TokensPerWindow is not null || share.InputTokensPerWindow is not null || share.OutputTokensPerWindow is not null
        || (share.LearnBudgets && RateDimensions.Any(d => _stated[(int)d] is not null));

    /// <summary>
    /// An answer (or its headers) reached this partition: on the local share, the slow start moves (one more after a
    /// success, half after a 429) and the share's concurrency is set again, a stated rate now lifting it.
    /// </summary>
    private void LocalAnswer(PacingSignal signal)
    {
        if (!Local(out var local, out var share))
        {
            return;
        }

        int limit = Volatile.Read(ref _concurrency);
        lock (_localLock)
        {
            if (signal == PacingSignal.Success)
            {
                _localLimit = Math.Min(Math.Max(1, limit), _localLimit + 1);
            }
            else if (signal == PacingSignal.Throttled)
            {
                _localLimit = Math.Max(1, _localLimit / 2);
            }
        }

        local.ConcurrencyLimit = LocalConcurrency(share, limit);
        Kick();
    }

    private Outcome AttemptLocal(AdmissionRequest request)
    {
        long admittedAt = _time.GetTimestamp();
        long nowMs = _gate.NowMs();
        var episode = _gate.Episode;
        if (episode is null)
        {
            return new Outcome(AttemptKind.Again, admittedAt, nowMs, nowMs, false);
        }

        var (partition, _) = LocalFor(episode);
        GateLease lease;
        lock (_localLock)
        {
            // Checked again under the lock rejoining takes: nothing is admitted here once the debits are counted.
            if (_gate.Mode != GateMode.Local)
            {
                return new Outcome(AttemptKind.Wait, admittedAt, nowMs, nowMs + 20, false);
            }

            // Tenants are ignored by the Redis gate's ordering, here too: the shared queue already chose this waiter.
            lease = partition.TryAcquire(request with { Priority = 0, AtFront = false, Tenant = null });
            if (lease.IsAdmitted)
            {
                _localRequests++;
                _localTokens += request.Tokens;
            }
        }

        if (lease.IsAdmitted)
        {
            return new Outcome(AttemptKind.Admitted, admittedAt, nowMs, nowMs, false) { Local = lease, Episode = episode };
        }

        if (lease.Rejection == GateRejectionReason.Stopped)
        {
            return new Outcome(AttemptKind.Stopped, admittedAt, nowMs, nowMs, false) { Reason = lease.RejectionMessage ?? "stopped" };
        }

        return lease.RetryAfter is { } retryAfter
            ? new Outcome(AttemptKind.Wait, admittedAt, nowMs, nowMs + retryAfter.TotalMilliseconds, false)
            : new Outcome(AttemptKind.Wait, admittedAt, nowMs, -1, true);
    }

    /// <summary>Charges Redis with what this partition admitted alone in <paramref name="episode"/>, then renews its slots there.</summary>
    internal async Task RejoinAsync(LocalEpisode? episode)
    {
        LocalState? state;
        lock (_localLock)
        {
            state = _localState is { } s && ReferenceEquals(s.Episode, episode) ? s : null;
        }

        // A Redis that came back empty has forgotten what the provider stated: say it again first (a reset of now lowers
        // nothing), so that what was admitted alone is charged to those budgets and they pace at once, not only after
        // the next answer (a budget learned from headers, the common case, would otherwise not pace at all until then).
        long?[] stated;
        lock (_lock)
        {
            stated = (long?[])_stated.Clone();
        }

        for (int dimension = 0; dimension < stated.Length; dimension++)
        {
            if (stated[dimension] is { } limit)
            {
                await EvaluateAsync("observe", [dimension, limit, _gate.NowMs(), limit, ""]).ConfigureAwait(false);
            }
        }

        if (state is not null)
        {
            var extra = new StackExchange.Redis.RedisValue[9];
            extra[8] = _gate.AbsentShare(episode);
            List<string> stand = [];
            lock (_localLock)
            {
                var snapshot = state.Partition.GetSnapshot();
                foreach (var dimension in RateDimensions)
                {
                    double debit = 0;
                    if (snapshot.Budgets.FirstOrDefault(b => b.Dimension == dimension) is { Window.Ticks: > 0 } budget)
                    {
                        debit = Math.Max(0, Capacity(state.Share, dimension, budget.Limit / 60) - budget.Available);
                    }

                    extra[(int)dimension] = debit;
                }

                extra[4] = _localRequests;
                extra[5] = Math.Max(0, _localTokens);
                extra[6] = snapshot.PausedUntil is { } paused ? paused.ToUnixTimeMilliseconds() : 0;
                extra[7] = snapshot.StopReason is { } stop ? _gate.MemberId + "|" + stop : "";
                lock (_lock)
                {
                    foreach (var record in _localHeld)
                    {
                        record.SlotId ??= _gate.NewLeaseId();
                        _held.Add(record.SlotId);
                        stand.Add(record.SlotId);
                    }
                }
            }

            await EvaluateAsync("rejoin", extra).ConfigureAwait(false);
            lock (_localLock)
            {
                _localState = null;
            }
        }

        await RenewAsync(rejoining: true).ConfigureAwait(false);
    }

    /// <summary>What a full bucket of the local share holds, as PartitionLimits sizes it.</summary>
    private static double Capacity(PartitionLimits share, BudgetDimension dimension, double perSecond) => dimension switch
    {
        BudgetDimension.Requests => Math.Max(1, Math.Floor((double?)share.RequestBurst ?? Math.Max(1, perSecond))),
        BudgetDimension.Tokens => Math.Max(1, (double?)share.TokenBurst ?? Math.Max(1, perSecond)),
        _ => Math.Max(1, perSecond),
    };

    /// <summary>The local partition of one episode and the share it was given.</summary>
    private sealed record LocalState(LocalEpisode Episode, GatePartition Partition, PartitionLimits Share);
}
