namespace Sluice.Gate;

/// <summary>
/// One tenant of one in-process partition: its waiters (first come first served within each priority, requeued work
/// first), its fair-queuing account, its own limits and what it received. Guarded by the partition's lock; pure
/// otherwise: timestamps come in from the partition's clock.
/// </summary>
internal sealed class TenantState
{
    // ShareReceived decays with this time constant: "the last 10 seconds", smoothly.
    internal const double ShareDecaySeconds = 10;

    private readonly long _ticksPerSecond;

    // Priority levels with a waiter, highest first; few in practice (a level is dropped once empty).
    private readonly List<PriorityLevel> _levels = [];

    private TokenBucket _requests;
    private TokenBucket _tokens;

    public TenantState(GateTenant tenant, long now, long ticksPerSecond)
    {
        _ticksPerSecond = ticksPerSecond;
        Name = tenant.Name;
        Configure(tenant, now);
        LastUsed = now;
        ReceivedAt = now;
    }

    public string Name { get; }

    /// <summary>The tenant whose weight and limits are in force.</summary>
    public GateTenant Source { get; private set; } = null!;

    public double Weight { get; private set; }

    public int? MaxConcurrency { get; private set; }

    public bool HasRequestBudget { get; private set; }

    public bool HasTokenBudget { get; private set; }

    /// <summary>The fair-queuing finish tag: the virtual time at which its last admission's share of the budget ends.</summary>
    public double Finish { get; set; }

    /// <summary>Live (not cancelled) waiters in its queues.</summary>
    public int Waiting { get; set; }

    public int InFlight { get; set; }

    public long Admitted { get; set; }

    /// <summary>The fairness cost it received, decayed to <see cref="ReceivedAt"/>.</summary>
    public double Received { get; set; }

    public long ReceivedAt { get; set; }

    public long LastUsed { get; set; }

    /// <summary>Its place in the partition's list of tenants with waiters; -1 when it has none.</summary>
    public int ActiveIndex { get; set; } = -1;

    /// <summary>False once the partition has forgotten it (a lease may still point at it).</summary>
    public bool Tracked { get; set; } = true;

    /// <summary>Takes the weight and limits of <paramref name="tenant"/>; a bucket already running keeps its level.</summary>
    public void Configure(GateTenant tenant, long now)
    {
        Source = tenant;
        Weight = tenant.Weight;
        var limits = tenant.Limits;
        MaxConcurrency = limits?.MaxConcurrency;
        HasRequestBudget = Reconfigure(ref _requests, HasRequestBudget, limits?.RequestsPerMinute, now);
        HasTokenBudget = Reconfigure(ref _tokens, HasTokenBudget, limits?.TokensPerMinute, now);
    }

    public void Enqueue(GateWaiter waiter, bool atFront)
    {
        var level = LevelFor(waiter.Priority);
        (atFront ? level.Front : level.Back).Enqueue(waiter);
    }

    /// <summary>The highest priority it has a live waiter of; <see cref="int.MinValue"/> when none. Drops emptied levels.</summary>
    public int TopPriority()
    {
        while (_levels.Count > 0)
        {
            if (_levels[0].Peek() is not null)
            {
                return _levels[0].Priority;
            }

            _levels.RemoveAt(0);
        }

        return int.MinValue;
    }

    /// <summary>
    /// Its live waiter that goes first: the highest effective priority among the heads of its levels (a head is the
    /// oldest requeued waiter, else the oldest waiter), ties by arrival. A waiter's priority ages up by one every
    /// <paramref name="agingTicks"/>, to <paramref name="cap"/> at most. Drops cancelled waiters met on the way.
    /// </summary>
    public GateWaiter? Head(long now, long agingTicks, int cap, out int effectivePriority)
    {
        GateWaiter? best = null;
        effectivePriority = int.MinValue;
        for (int i = 0; i < _levels.Count; i++)
        {
            var level = _levels[i];
            var head = level.Peek();
            if (head is null)
            {
                _levels.RemoveAt(i--);
                continue;
            }

            // Every level is looked at, not only the highest: a lower level's older head may have aged past it.
            int effective = EffectivePriority(head, now, agingTicks, cap);
            if (best is null || effective > effectivePriority || (effective == effectivePriority && head.Sequence < best.Sequence))
            {
                best = head;
                effectivePriority = effective;
            }
        }

        return best;
    }

    /// <summary>Removes <paramref name="waiter"/>, the head <see cref="Head"/> returned.</summary>
    public void Dequeue(GateWaiter waiter)
    {
        foreach (var level in _levels)
        {
            if (level.Priority == waiter.Priority)
            {
                var queue = level.Front.Count > 0 ? level.Front : level.Back;
                // Stryker disable once all : a debug-only check.
                System.Diagnostics.Debug.Assert(ReferenceEquals(queue.Peek(), waiter), "dequeued a waiter that was not its level's head");
                queue.Dequeue();
                return;
            }
        }
    }

    /// <summary>Every waiter held, live or cancelled; emptied. For a stop, and for a tenant whose last live waiter left.</summary>
    public IEnumerable<GateWaiter> DrainAll()
    {
        var all = new List<GateWaiter>();
        foreach (var level in _levels)
        {
            all.AddRange(level.Front);
            all.AddRange(level.Back);
        }

        _levels.Clear();
        return all;
    }

    /// <summary>Drops every waiter held (all cancelled), so a tenant with nobody live waiting holds nothing.</summary>
    public void ClearQueues() => _levels.Clear();

    /// <summary>Live waiters held, counted (debug checks).</summary>
    public int CountLive()
    {
        int live = 0;
        foreach (var level in _levels)
        {
            foreach (var waiter in level.Front)
            {
                live += waiter.IsDone ? 0 : 1;
            }

            foreach (var waiter in level.Back)
            {
                live += waiter.IsDone ? 0 : 1;
            }
        }

        return live;
    }

    /// <summary>
    /// The earliest instant its own limits let a request costing <paramref name="tokens"/> start: <paramref name="now"/>
    /// when they do now, <see cref="long.MaxValue"/> when only a release of its own can.
    /// </summary>
    public long WakeTime(long tokens, long now)
    {
        if (MaxConcurrency is { } max && InFlight >= max)
        {
            return long.MaxValue;
        }

        long wake = now;
        if (HasRequestBudget)
        {
            _requests.Refill(now);
            wake = Later(wake, now, _requests.TimeUntil(1, now));
        }

        if (HasTokenBudget && tokens > 0)
        {
            _tokens.Refill(now);
            wake = Later(wake, now, _tokens.TimeUntil(tokens, now));
        }

        return wake;
    }

    /// <summary>Takes one request and <paramref name="tokens"/> from its own budgets.</summary>
    public void Spend(long tokens)
    {
        if (HasRequestBudget)
        {
            _requests.Spend(1);
        }

        if (HasTokenBudget)
        {
            _tokens.Spend(tokens);
        }
    }

    /// <summary>Corrects its own token budget when a lease settles at another cost.</summary>
    public void SettleTokens(long delta, long now)
    {
        if (HasTokenBudget)
        {
            _tokens.Refill(now);
            _tokens.Adjust(delta);
        }
    }

    /// <summary>Adds <paramref name="cost"/> to what it received, decaying what it had first.</summary>
    public void Receive(double cost, long now)
    {
        Received = Math.Max(0, Decayed(Received, ReceivedAt, now, _ticksPerSecond) + cost);
        ReceivedAt = now;
    }

    /// <summary><paramref name="value"/>, counted at <paramref name="at"/>, decayed to <paramref name="now"/>.</summary>
    public static double Decayed(double value, long at, long now, long ticksPerSecond) =>
        now <= at ? value : value * Math.Exp(-(now - at) / (double)ticksPerSecond / ShareDecaySeconds);

    private static int EffectivePriority(GateWaiter head, long now, long agingTicks, int cap)
    {
        if (agingTicks == long.MaxValue || now <= head.EnqueuedAt || head.Priority >= cap)
        {
            return head.Priority;
        }

        long steps = (now - head.EnqueuedAt) / agingTicks;
        return (int)Math.Min(cap, head.Priority + steps);
    }

    private PriorityLevel LevelFor(int priority)
    {
        int i = 0;
        while (i < _levels.Count && _levels[i].Priority > priority)
        {
            i++;
        }

        if (i < _levels.Count && _levels[i].Priority == priority)
        {
            return _levels[i];
        }

        var level = new PriorityLevel(priority);
        _levels.Insert(i, level);
        return level;
    }

    private bool Reconfigure(ref TokenBucket bucket, bool running, double? perMinute, long now)
    {
        if (perMinute is not { } limit)
        {
            return false;
        }

        // A second's worth at most at once, as the partition's own buckets: a tenant never bursts past its rate.
        double perSecond = limit / 60;
        double capacity = Math.Max(1, perSecond);
        if (running)
        {
            bucket.Reconfigure(perSecond, capacity, now);
        }
        else
        {
            bucket = new TokenBucket(perSecond, capacity, now, _ticksPerSecond);
        }

        return true;
    }

    private long Later(long wake, long now, TimeSpan wait) =>
        wait == TimeSpan.MaxValue ? long.MaxValue : Math.Max(wake, now + Timestamps.FromTimeSpan(wait, _ticksPerSecond));

    /// <summary>One priority's waiters: requeued work (<see cref="AdmissionRequest.AtFront"/>) first, each in arrival order.</summary>
    private sealed class PriorityLevel(int priority)
    {
        public int Priority { get; } = priority;

        public Queue<GateWaiter> Front { get; } = new();

        public Queue<GateWaiter> Back { get; } = new();

        /// <summary>The live head, dropping cancelled waiters; null when the level holds none live.</summary>
        public GateWaiter? Peek()
        {
            while (Front.TryPeek(out var head))
            {
                if (!head.IsDone)
                {
                    return head;
                }

                Front.Dequeue();
            }

            while (Back.TryPeek(out var head))
            {
                if (!head.IsDone)
                {
                    return head;
                }

                Back.Dequeue();
            }

            return null;
        }
    }
}
