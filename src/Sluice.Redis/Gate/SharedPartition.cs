using System.Globalization;
using System.Runtime.CompilerServices;
using Sluice.Adaptive;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// A partition whose state lives in Redis, shared by every process on the same prefix and key: the concurrency slots
/// (leases with a time to live), every budget, the pause, the stop and what the provider said. Each admission,
/// release, settlement and control is one atomic call of gate.lua. Callers wait in a queue of this process (priority,
/// then arrival), whose head is retried when a lease is released here, when another process announces a release on
/// the partition's channel, at the instant the script said the budgets allow it, and at least every
/// <see cref="PollPeriod"/> (a message can be lost). No lock is held while Redis is called.
/// </summary>
/// <remarks>
/// Files: this one holds the state and the controls; .Admission.cs the queue; .Pump.cs who serves it and when;
/// .Attempts.cs one attempt and its outcome; .Leases.cs release, settlement and renewal; .Snapshot.cs the state read
/// back; .Fallback.cs the local share.
/// </remarks>
internal sealed partial class SharedPartition : GatePartition, IDisposable
{
    /// <summary>The longest a waiter goes without trying again, whatever it was told: messages between processes can be lost.</summary>
    internal static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(500);

    // A 429 without a stated wait: the first inferred pause, and the longest.
    private static readonly TimeSpan FirstInferredWait = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxInferredWait = TimeSpan.FromSeconds(60);

    private readonly SharedGate _gate;
    private readonly TimeProvider _time;
    private readonly PartitionKeys _keys;
    private readonly object _lock = new();
    private readonly ConditionalWeakTable<GateLease, LeaseRecord> _records = [];
    private readonly ITimer _timer;
    private readonly Action<RedisChannel, RedisValue> _handler;

    private PartitionLimits _limits;
    private RedisValue[] _limitArgs;
    private int _concurrency;
    private string? _stopReason;
    private long _pausedUntilMs;
    private long _admissions;
    private long _lastLookup;
    private int _throttleStreak;
    private bool _disposed;

    public SharedPartition(SharedGate gate, string key, PartitionLimits limits)
    {
        _gate = gate;
        _time = gate.Clock;
        Key = key;
        _keys = new PartitionKeys(gate.Prefix, key);
        _limits = limits;
        _limitArgs = LimitArguments.Of(limits);
        _concurrency = limits.MaxConcurrency;
        _handler = (_, message) => OnMessage(message);
        _timer = _time.CreateTimer(static state => ((SharedPartition)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _lastLookup = _time.GetTimestamp();
    }

    public override string Key { get; }

    public override int ConcurrencyLimit
    {
        get => Volatile.Read(ref _concurrency);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref _concurrency, value);
            if (Local(out var local, out var share))
            {
                local.ConcurrencyLimit = LocalConcurrency(share, value);
            }
            else
            {
                _ = CallAsync("limit", [value], kick: true);
            }

            Kick();
        }
    }

    /// <summary>
    /// Listens for what other processes announce on the partition's channel (StackExchange.Redis subscribes again on
    /// every reconnection). Until the subscription is in place, the poll stands in for it.
    /// </summary>
    internal void Start()
    {
        Subscribed = _gate.Subscriber.SubscribeAsync(_keys.Channel, _handler);
        _ = Subscribed.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Completes once the partition hears what other processes announce (for tests that must not rely on the poll).</summary>
    internal Task Subscribed { get; private set; } = Task.CompletedTask;

    internal void Touch() => Interlocked.Exchange(ref _lastLookup, _time.GetTimestamp());

    internal bool IsIdleFor(TimeSpan idle)
    {
        lock (_lock)
        {
            return _queued == 0 && _held.Count == 0 && _localHeld.Count == 0 && _time.GetElapsedTime(Interlocked.Read(ref _lastLookup)) >= idle;
        }
    }

    public override void PauseUntil(DateTimeOffset until)
    {
        long untilMs = until.ToUnixTimeMilliseconds();
        if (until <= _time.GetUtcNow())
        {
            return;
        }

        lock (_lock)
        {
            if (untilMs <= _pausedUntilMs)
            {
                return;
            }

            _pausedUntilMs = untilMs;
        }

        if (Local(out var local, out _))
        {
            local.PauseUntil(until);
        }
        else
        {
            _ = CallAsync("pause", [untilMs], kick: false);
        }
    }

    public override void Stop(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        StopHere(reason);
        if (Local(out var local, out _))
        {
            local.Stop(reason);
        }
        else
        {
            _ = CallAsync("stop", [_gate.MemberId + "|" + reason], kick: false);
        }
    }

    public override void Resume()
    {
        lock (_lock)
        {
            if (_stopReason is null)
            {
                return;
            }

            _stopReason = null;
        }

        if (Local(out var local, out _))
        {
            local.Resume();
        }
        else
        {
            _ = CallAsync("resume", [_gate.MemberId], kick: true);
        }
    }

    public override void ObserveBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit = null) =>
        Observe(dimension, remaining, resetAt, limit, countedSinceMs: null);

    protected override void ObserveAnswerBudget(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, GateLease lease)
    {
        long? since = null;
        if (dimension is BudgetDimension.InputTokens or BudgetDimension.OutputTokens && lease.IsAdmitted && _records.TryGetValue(lease, out var record))
        {
            since = record.AdmittedMs;
        }

        Observe(dimension, remaining, resetAt, limit, since);
    }

    protected override TimeSpan RecordOutcome(GateLease lease, PacingSignal signal, bool waitStated = true)
    {
        if (signal == PacingSignal.Success)
        {
            Volatile.Write(ref _throttleStreak, 0);
        }

        LocalAnswer(signal);

        if (signal != PacingSignal.Throttled || waitStated)
        {
            return TimeSpan.Zero;
        }

        // A 429 naming no wait: pause every process briefly, twice as long for each further refusal in a row.
        int streak = Interlocked.Increment(ref _throttleStreak);
        var pause = TimeSpan.FromSeconds(Math.Min(MaxInferredWait.TotalSeconds, FirstInferredWait.TotalSeconds * Math.Pow(2, Math.Min(streak - 1, 20))));
        PauseUntil(_time.GetUtcNow() + pause);
        return pause;
    }

    protected override void HeadersObserved() => HeardHeaders();

    /// <summary>An answer's headers were all observed (what <see cref="HeadersObserved"/> does; tests call it here).</summary>
    internal void HeardHeaders() => LocalAnswer(PacingSignal.None);

    public override void UpdateLimits(PartitionLimits limits)
    {
        Validate(limits);
        var copy = limits.Clone();
        lock (_lock)
        {
            _limits = copy;
            _limitArgs = LimitArguments.Of(copy);
        }

        Volatile.Write(ref _concurrency, copy.MaxConcurrency);
        if (Local(out var local, out _))
        {
            var share = LimitArguments.Share(copy, _gate.Episode?.Members ?? 1, copy.MaxConcurrency);
            lock (_localLock)
            {
                if (_localState is { } state)
                {
                    _localState = state with { Share = share };
                }
            }

            local.UpdateLimits(share);
            local.ConcurrencyLimit = LocalConcurrency(share, copy.MaxConcurrency);
        }
        else
        {
            _ = CallAsync("limit", [copy.MaxConcurrency], kick: true);
        }

        Kick();
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
        try
        {
            // This partition's handler only: another partition object of the same key (a lost race) may listen too.
            _ = _gate.Subscriber.UnsubscribeAsync(_keys.Channel, _handler).ContinueWith(
                static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (ObjectDisposedException)
        {
            // The connection went first.
        }
    }

    /// <summary>Checks limits as the in-process gate does, so both reject the same mistakes with the same exception.</summary>
    internal static void Validate(PartitionLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        SluiceGate.Create(new GateOptions { DefaultLimits = limits }, TimeProvider.System).Dispose();
    }

    private void Observe(BudgetDimension dimension, long remaining, DateTimeOffset resetAt, long? limit, long? countedSinceMs)
    {
        if (dimension is < BudgetDimension.Requests or > BudgetDimension.TokensPerDay)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "Unknown budget dimension.");
        }

        if (remaining < 0 || limit <= 0)
        {
            return;
        }

        if (limit is { } stated)
        {
            lock (_lock)
            {
                _stated[(int)dimension] = stated;
            }
        }

        if (Local(out var local, out _))
        {
            // The provider speaks for the whole key: this process's part of it is 1/N.
            int members = Math.Max(1, _gate.Episode?.Members ?? 1);
            local.ObserveBudget(dimension, remaining / members, resetAt, limit is { } l ? Math.Max(1, l / members) : null);
            return;
        }

        _ = CallAsync(
            "observe",
            [(int)dimension, remaining, resetAt.ToUnixTimeMilliseconds(), limit is { } value ? value : "", countedSinceMs is { } since ? since : ""],
            kick: true);
    }

    /// <summary>A stop as stored: the member that stopped it, a bar, the reason.</summary>
    private static string StopText(string stored)
    {
        int bar = stored.IndexOf('|', StringComparison.Ordinal);
        return bar < 0 ? stored : stored[(bar + 1)..];
    }

    private static double Number(RedisResult value) => double.Parse((string)value!, NumberStyles.Float, CultureInfo.InvariantCulture);

    private void OnMessage(RedisValue message)
    {
        string text = message.ToString();
        if (text.Length == 0)
        {
            return;
        }

        switch (text[0])
        {
            case 's':
                // Our own stop comes back too; a resume since must not be undone by it.
                if (!text.AsSpan(1).StartsWith(_gate.MemberId + "|", StringComparison.Ordinal))
                {
                    StopHere(StopText(text[1..]));
                }

                break;
            case 'r':
                if (text.AsSpan(1).SequenceEqual(_gate.MemberId))
                {
                    break;
                }

                lock (_lock)
                {
                    _stopReason = null;
                }

                Kick();
                break;
            default:
                // A release, refund or change elsewhere; our own are acted on where they happen.
                if (!text.AsSpan(1).SequenceEqual(_gate.MemberId))
                {
                    Kick();
                }

                break;
        }
    }

    /// <summary>
    /// Calls gate.lua with <paramref name="op"/> (issued before this returns, so calls from one thread reach Redis in
    /// order); a failure for want of Redis sends the gate to its local share. Kicks the queue when done if asked.
    /// </summary>
    private async Task CallAsync(string op, RedisValue[] extra, bool kick)
    {
        try
        {
            await EvaluateAsync(op, extra).ConfigureAwait(false);
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
        }

        if (kick)
        {
            Kick();
        }
    }

    private Task<RedisResult> EvaluateAsync(string op, RedisValue[] extra) =>
        _gate.Database.ScriptEvaluateAsync(GateScripts.Gate, _keys.All, Arguments(op, extra));

    private RedisResult Evaluate(string op, RedisValue[] extra) =>
        _gate.Database.ScriptEvaluate(GateScripts.Gate, _keys.All, Arguments(op, extra));

    /// <summary>
    /// The configured limits with the budgets the provider stated put in where they are stricter (or none is
    /// configured), as configured ones: scaled for a rejoin's grace, a budget learned from headers (the common case)
    /// must shrink too, or the first process back would take all of it while the others still spend their local share.
    /// </summary>
    private PartitionLimits WithStatedLocked()
    {
        var limits = _limits.Clone();
        if (!limits.LearnBudgets)
        {
            return limits;
        }

        double perWindow = limits.Window.TotalSeconds / 60;
        long? Stated(BudgetDimension dimension, long? configured, double scale) =>
            _stated[(int)dimension] is { } stated && Math.Max(1, (long)(stated * scale)) is var value && (configured is null || value < configured) ? value : configured;

        limits.RequestsPerWindow = (int?)Stated(BudgetDimension.Requests, limits.RequestsPerWindow, perWindow);
        limits.TokensPerWindow = Stated(BudgetDimension.Tokens, limits.TokensPerWindow, perWindow);
        limits.InputTokensPerWindow = Stated(BudgetDimension.InputTokens, limits.InputTokensPerWindow, perWindow);
        limits.OutputTokensPerWindow = Stated(BudgetDimension.OutputTokens, limits.OutputTokensPerWindow, perWindow);
        limits.RequestsPerDay = (int?)Stated(BudgetDimension.RequestsPerDay, limits.RequestsPerDay, 1);
        limits.TokensPerDay = Stated(BudgetDimension.TokensPerDay, limits.TokensPerDay, 1);
        return limits;
    }

    private RedisValue[] Arguments(string op, RedisValue[] extra)
    {
        RedisValue[] limits;
        double factor = _gate.ShareFactor;
        lock (_lock)
        {
            limits = factor < 1 ? LimitArguments.Of(LimitArguments.Scale(WithStatedLocked(), factor)) : _limitArgs;
        }

        var args = LimitArguments.For(limits, op, _gate.NowMs(), _gate.MemberId, extra.Length);
        extra.CopyTo(args, LimitArguments.Count);
        return args;
    }
}
