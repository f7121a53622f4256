using System.Globalization;
using Sluice.Gate;
using StackExchange.Redis;

namespace Sluice.Redis.Gate;

/// <summary>
/// One admission attempt: a call of gate.lua (<c>admit</c> for the queue's head, which registers the process as waiting
/// when it must wait; <c>try</c> for <see cref="TryAcquire"/>), or the local share while Redis is away, and what came
/// of it.
/// </summary>
internal sealed partial class SharedPartition
{
    private enum AttemptKind
    {
        Admitted,
        Wait,
        Stopped,
        Again,
    }


    /// <summary>One admission attempt, awaited: through Redis when shared, on the local share otherwise.</summary>
    private async ValueTask<Outcome> AttemptAsync(AdmissionRequest request, int waitingBehind)
    {
        if (Elsewhere(request) is { } decided)
        {
            return decided;
        }

        long admittedAt = _time.GetTimestamp();
        var (op, slot, extra) = Call(request, waitingBehind);
        try
        {
            return Parse((RedisResult[])(await EvaluateAsync(op, extra).ConfigureAwait(false))!, slot, admittedAt);
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
            return new Outcome(AttemptKind.Again, admittedAt, 0, 0, false);
        }
    }

    /// <summary>One admission attempt on the caller's thread: for <see cref="TryAcquire"/>, which must answer now, and an idle partition's first caller.</summary>
    private Outcome AttemptNow(AdmissionRequest request, int waitingBehind = -1)
    {
        if (Elsewhere(request) is { } decided)
        {
            return decided;
        }

        long admittedAt = _time.GetTimestamp();
        var (op, slot, extra) = Call(request, waitingBehind);
        try
        {
            return Parse((RedisResult[])Evaluate(op, extra)!, slot, admittedAt);
        }
        catch (Exception e) when (SharedGate.IsUnavailable(e))
        {
            _gate.GoLocal(e);
            return new Outcome(AttemptKind.Again, admittedAt, 0, 0, false);
        }
    }

    /// <summary>The attempt when Redis is not where admissions go: on the local share, or nothing while rejoining.</summary>
    private Outcome? Elsewhere(AdmissionRequest request) => _gate.Mode switch
    {
        // What this process admitted alone is being charged: admit nothing until it is (the rejoin kicks the queue).
        GateMode.Rejoining => new Outcome(AttemptKind.Wait, _time.GetTimestamp(), _gate.NowMs(), _gate.NowMs() + 20, false),
        GateMode.Local => AttemptLocal(request),
        _ => null,
    };

    /// <summary>The op and arguments of an admission: a new slot id, its time to live, the costs, how many wait behind.</summary>
    private (string Op, string Slot, RedisValue[] Extra) Call(AdmissionRequest request, int waitingBehind)
    {
        string slot = _gate.NewLeaseId();
        RedisValue[] extra =
        [
            slot, (long)_gate.LeaseTimeToLive.TotalMilliseconds, request.Tokens, request.InputTokens, request.OutputTokens,
            _gate.MemberId, Math.Max(0, waitingBehind),
        ];
        return (waitingBehind < 0 ? "try" : "admit", slot, extra);
    }

    /// <summary>Reads gate.lua's answer: admitted (with the per-day bucket), wait (until when, whether for a slot), or stopped.</summary>
    private Outcome Parse(RedisResult[] r, string slot, long admittedAt)
    {
        string status = (string)r[0]!;
        long nowMs = (long)Number(r[1]);
        switch (status)
        {
            case "stop":
                return new Outcome(AttemptKind.Stopped, admittedAt, nowMs, 0, false) { Reason = StopText((string)r[2]!) };
            case "ok":
                lock (_lock)
                {
                    _dayLeft = (Optional(r[5]), Optional(r[6]));
                }

                return new Outcome(AttemptKind.Admitted, admittedAt, nowMs, nowMs, false)
                {
                    SlotId = slot,
                    DayBucket = long.Parse((string)r[2]!, CultureInfo.InvariantCulture),
                };
            default:
                lock (_lock)
                {
                    _dayLeft = (Optional(r[6]), Optional(r[7]));
                }

                return new Outcome(AttemptKind.Wait, admittedAt, nowMs, Number(r[2]), (string)r[3]! == "1");
        }
    }

    private static double? Optional(RedisResult value) => (string?)value is { Length: > 0 } text ? double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) : null;

    /// <summary>What one attempt came to.</summary>
    private readonly record struct Outcome(AttemptKind Kind, long AdmittedAt, long NowMs, double AtMs, bool SlotBound)
    {
        public string? SlotId { get; init; }

        public long DayBucket { get; init; } = -1;

        public GateLease? Local { get; init; }

        public LocalEpisode? Episode { get; init; }

        public string? Reason { get; init; }
    }
}
