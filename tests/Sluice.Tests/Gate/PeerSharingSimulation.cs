using Sluice.Adaptive;
using Sluice.Dispatch;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// N independent local gates (N processes, each with its own <see cref="SluiceGate.Create"/>) on one fake clock, all
/// spending ONE provider budget: a token bucket refilling at a rate with one second's worth of burst, as OpenAI and
/// <c>sluice mock</c> keep it. Every answer carries the provider's <c>remaining</c>, <c>reset</c> and <c>limit</c>,
/// which each gate observes as the engine does (ProviderAttempt); a 429 states its wait and pauses that process's
/// partition for it, never less than the dispatcher's <see cref="ThrottleFloor"/>, and the job asks again at the front.
/// Nothing depends on machine speed: the clock jumps from event to event (<see cref="GateEventLoop"/>).
/// </summary>
internal static class PeerSharingSimulation
{
    /// <summary>What one simulated run came to.</summary>
    public sealed record Result(long Attempts, long Throttled, long Completed, double Seconds, double IdealSeconds)
    {
        public double ThrottleShare => Attempts == 0 ? 0 : (double)Throttled / Attempts;

        /// <summary>Completion time over the ideal (every job at the provider's rate, plus one latency).</summary>
        public double Completion => Seconds / IdealSeconds;

        /// <summary>The share of the provider's budget over the run that was spent on answers (ideal ÷ completion time).</summary>
        public double BudgetUsed => IdealSeconds / Seconds;

        public override string ToString() =>
            FormattableString.Invariant($"attempts {Attempts}, 429s {Throttled} ({ThrottleShare:P2}), completed {Completed}, {Seconds:F2} s against ideal {IdealSeconds:F2} s = {Completion:F3}");
    }

    /// <summary>
    /// Runs one process per entry of <paramref name="jobs"/>, each with that many jobs queued at its start (as
    /// <c>sluice run</c> reads its slice ahead), against a provider allowing <paramref name="perSecond"/> requests a
    /// second. Answers take <paramref name="latency"/> ± <paramref name="jitter"/> seconds (a seeded uniform draw).
    /// <paramref name="startSpread"/> staggers the processes' starts over that many seconds.
    /// </summary>
    public static Result Run(IReadOnlyList<int> jobs, double perSecond, double latency, double jitter, int seed, double startSpread = 0, Action<string>? trace = null)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        int peers = jobs.Count;
        var time = new TrackingTimeProvider();
        var start = time.GetUtcNow();
        var random = new Random(seed);
        var events = new PriorityQueue<Action, (double At, long Order)>();
        long order = 0;
        double Now() => (time.GetUtcNow() - start).TotalSeconds;
        void Schedule(double at, Action action) => events.Enqueue(action, (at, order++));

        var provider = new ProviderBucket(perSecond, capacity: Math.Max(1, perSecond));
        long attempts = 0, throttled = 0, completed = 0;
        double lastAnswer = 0;
        var clients = new List<Client>();
        int traceSecond = -1, traceRefused = 0;
        int[] traceSent = new int[peers];
        for (int i = 0; i < peers; i++)
        {
            var gate = SluiceGate.Create(new GateOptions { DefaultLimits = new PartitionLimits { AdaptiveConcurrency = true } }, time);
            clients.Add(new Client(i, gate, gate.GetPartition("one key"), new ThrottleFloor()));
        }

        void CollectAdmissions()
        {
            foreach (var client in clients)
            {
                for (int j = 0; j < client.Pending.Count; j++)
                {
                    var pending = client.Pending[j];
                    if (!pending.IsCompleted)
                    {
                        continue;
                    }

                    client.Pending.RemoveAt(j--);
                    var lease = pending.Result;
                    Assert.True(lease.IsAdmitted, $"rejected: {lease.Rejection}");
                    Send(client, lease);
                }
            }
        }

        void Send(Client client, GateLease lease)
        {
            attempts++;
            double now = Now();
            var answer = provider.TryAdmit(now);
            int second = (int)now;
            if (trace is not null)
            {
                if (second != traceSecond)
                {
                    if (traceSecond >= 0)
                    {
                        trace(FormattableString.Invariant($"t={traceSecond} sent {string.Join(",", traceSent)} refused {traceRefused} remaining {answer.Remaining}"));
                    }

                    traceSecond = second;
                    Array.Clear(traceSent);
                    traceRefused = 0;
                }

                traceSent[client.Index]++;
                traceRefused += answer.Accepted ? 0 : 1;
            }

            double answerAt = answer.Accepted ? now + latency + (jitter * ((2 * random.NextDouble()) - 1)) : now + 0.001;
            Schedule(answerAt, () =>
            {
                var at = time.GetUtcNow();
                client.Partition.ObserveAnswerBudget(BudgetDimension.Requests, answer.Remaining, at + answer.ResetIn, provider.PerMinute, lease);
                client.Partition.HeadersObserved();
                if (answer.Accepted)
                {
                    client.Partition.RecordOutcome(lease, PacingSignal.Success);
                    client.Floor.Succeeded();
                    completed++;
                    lastAnswer = Now();
                    lease.Dispose();
                    return;
                }

                throttled++;
                client.Partition.RecordOutcome(lease, PacingSignal.Throttled, waitStated: true);
                var floor = client.Floor.Throttled(lease.AdmittedAt, time.GetTimestamp());
                var pause = answer.RetryAfter > floor ? answer.RetryAfter : floor;
                client.Partition.PauseUntil(at + pause);
                lease.Dispose();
                client.Pending.Add(client.Partition.Enter(new AdmissionRequest(AtFront: true)));
            });
        }

        for (int i = 0; i < peers; i++)
        {
            var client = clients[i];
            double at = peers == 1 ? 0 : startSpread * i / (peers - 1);
            Schedule(at, () =>
            {
                for (int j = 0; j < jobs[client.Index]; j++)
                {
                    client.Pending.Add(client.Partition.Enter(new AdmissionRequest()));
                }
            });
        }

        GateEventLoop.Run(time, start, events, CollectAdmissions);
        foreach (var client in clients)
        {
            client.Gate.Dispose();
        }

        return new Result(attempts, throttled, completed, lastAnswer, (jobs.Sum() / perSecond) + latency);
    }

    private sealed record Client(int Index, SluiceGate Gate, GatePartition Partition, ThrottleFloor Floor)
    {
        public List<Task<GateLease>> Pending { get; } = [];
    }

    /// <summary>The provider's answer to one request, with the headers it states.</summary>
    private readonly record struct Answer(bool Accepted, long Remaining, TimeSpan ResetIn, TimeSpan RetryAfter);

    /// <summary>The provider's budget: a token bucket, as <c>sluice mock</c> keeps it (remaining rounded down, reset = until full).</summary>
    private sealed class ProviderBucket(double perSecond, double capacity)
    {
        private double _level = double.NaN;
        private double _updatedAt;

        public long PerMinute => (long)Math.Round(perSecond * 60);

        public Answer TryAdmit(double now)
        {
            _level = double.IsNaN(_level) ? capacity : Math.Min(capacity, _level + ((now - _updatedAt) * perSecond));
            _updatedAt = now;
            bool accepted = _level >= 1 - 1e-9;
            if (accepted)
            {
                _level -= 1;
            }

            long remaining = (long)Math.Floor(Math.Max(0, _level) + 1e-9);
            var resetIn = Milliseconds((capacity - _level) / perSecond);
            var retryAfter = accepted ? TimeSpan.Zero : Milliseconds((1 - _level) / perSecond);
            return new Answer(accepted, remaining, resetIn, retryAfter);
        }

        // The headers state whole milliseconds, rounded up (retry-after-ms, x-ratelimit-reset-requests: 40ms).
        private static TimeSpan Milliseconds(double seconds) => TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, seconds) * 1000));
    }
}
