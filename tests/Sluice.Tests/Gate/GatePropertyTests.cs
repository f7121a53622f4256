using CsCheck;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// Budget invariants over random workloads: arrivals, costs, priorities, holding times, under- and over-estimates,
/// cancellations and pauses. The simulation jumps the fake clock to each next event (an arrival, a release, a
/// cancellation, or the gate's own timer), so every admission instant is exact.
/// </summary>
public sealed class GatePropertyTests
{
    private static readonly Gen<Scenario> Scenarios =
        from seed in Gen.Int
        from concurrency in Gen.Int[1, 12]
        from requestsPerMinute in Gen.Int[20, 1200]
        from requestBurst in Gen.Int[1, 8]
        from tokensPerMinute in Gen.Int[3_000, 120_000]
        from tokenBurstSeconds in Gen.Int[1, 10]
        from count in Gen.Int[50, 250]
        select new Scenario(seed, concurrency, requestsPerMinute, requestBurst, tokensPerMinute, tokenBurstSeconds, count);

    [Fact]
    public void Admissions_NeverExceedConcurrencyRequestOrTokenBudgets_AndNoWaiterIsStranded()
    {
        Scenarios.Sample(Simulate, iter: 60, threads: 1);
    }

    private static void Simulate(Scenario scenario)
    {
        var random = new Random(scenario.Seed);
        var limits = new PartitionLimits
        {
            MaxConcurrency = scenario.Concurrency,
            RequestsPerWindow = scenario.RequestsPerMinute,
            RequestBurst = scenario.RequestBurst,
            TokensPerWindow = scenario.TokensPerMinute,
            TokenBurst = scenario.TokensPerMinute / 60 * scenario.TokenBurstSeconds,
        };
        var time = new TrackingTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = limits }, time);
        var partition = gate.GetPartition("p");
        var start = time.GetUtcNow();
        double Now() => (time.GetUtcNow() - start).TotalSeconds;

        // Events: (at seconds, order, action). Arrivals spread over a minute.
        var events = new PriorityQueue<Action, (double At, long Order)>();
        long order = 0;
        var pending = new List<(Task<GateLease> Task, Request Request)>();
        var admissions = new List<(double At, long Cost)>();
        var charges = new List<(double At, double Amount, bool IsAdmission, long Cost)>();
        var pauses = new List<(double From, double Until)>();
        int inFlight = 0, cancelled = 0, admitted = 0;

        void Schedule(double at, Action action) => events.Enqueue(action, (at, order++));

        void CollectAdmissions()
        {
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                var (task, request) = pending[i];
                if (!task.IsCompleted)
                {
                    continue;
                }

                pending.RemoveAt(i);
                if (task.IsCanceled)
                {
                    cancelled++;
                    continue;
                }

                var lease = task.Result;
                Assert.True(lease.IsAdmitted, $"rejected: {lease.Rejection}");
                double at = Now();
                Assert.InRange(lease.WaitTime.TotalSeconds - (at - request.ArrivedAt), -1e-6, 1e-6);
                admitted++;
                inFlight++;
                Assert.True(inFlight <= scenario.Concurrency, $"{inFlight} in flight over a limit of {scenario.Concurrency}");
                foreach (var (from, until) in pauses)
                {
                    // The gate keeps time in whole 100 ns ticks: a pause may end up to a tick before the exact instant.
                    Assert.False(at >= from && at < until - 1.5e-7, $"admitted at {at} during a pause [{from}, {until})");
                }

                admissions.Add((at, request.Estimate));
                charges.Add((at, request.Estimate, true, request.Estimate));
                Schedule(at + request.Hold, () =>
                {
                    lease.Settle(request.Actual);
                    charges.Add((Now(), request.Actual - request.Estimate, false, 0));
                    inFlight--;
                    lease.Dispose();
                });
            }
        }

        long tokenBurst = limits.TokenBurst!.Value;
        for (int i = 0; i < scenario.Count; i++)
        {
            double arrival = random.NextDouble() * 60;
            long estimate = random.Next(20) == 0 ? tokenBurst + random.Next(1, (int)tokenBurst) : random.Next(1, (int)Math.Min(tokenBurst, 4000) + 1);
            var request = new Request(
                arrival,
                estimate,
                Actual: (long)(estimate * (0.2 + (random.NextDouble() * 1.4))),
                Priority: random.Next(3),
                Hold: 0.01 + (random.NextDouble() * 5));
            bool cancels = random.Next(10) == 0;
            double pauseFor = random.Next(25) == 0 ? random.NextDouble() * 3 : 0;
            Schedule(arrival, () =>
            {
                if (pauseFor > 0)
                {
                    partition.PauseUntil(time.GetUtcNow().AddSeconds(pauseFor));
                    pauses.Add((Now(), Now() + pauseFor));
                }

                var cts = cancels ? new CancellationTokenSource() : null;
                var task = partition.Enter(new AdmissionRequest(request.Estimate, request.Priority), cts?.Token ?? default);
                pending.Add((task, request with { ArrivedAt = Now() }));
                if (cts is not null)
                {
                    Schedule(Now() + (random.NextDouble() * 2), cts.Cancel);
                }
            });
        }

        GateEventLoop.Run(time, start, events, CollectAdmissions);

        Assert.Empty(pending);
        Assert.Equal(scenario.Count, admitted + cancelled);
        Assert.Equal(0, partition.GetSnapshot().InFlight);

        // Requests: in any interval [a, b], admissions ≤ burst + rate·(b − a).
        double requestRate = scenario.RequestsPerMinute / 60.0;
        for (int i = 0; i < admissions.Count; i++)
        {
            for (int j = i; j < admissions.Count; j++)
            {
                double allowed = scenario.RequestBurst + (requestRate * (admissions[j].At - admissions[i].At)) + 1e-6;
                Assert.True(j - i + 1 <= allowed, $"{j - i + 1} requests admitted in [{admissions[i].At}, {admissions[j].At}], allowed {allowed}");
            }
        }

        // Tokens, settlement included: charges from any event up to an admission ≤ burst + rate·Δt, plus the
        // overdraft a request larger than the burst is allowed.
        double tokenRate = scenario.TokensPerMinute / 60.0;
        for (int j = 0; j < charges.Count; j++)
        {
            if (!charges[j].IsAdmission)
            {
                continue;
            }

            double overdraft = Math.Max(0, charges[j].Cost - tokenBurst);
            double sum = 0;
            for (int i = j; i >= 0; i--)
            {
                sum += charges[i].Amount;
                double allowed = tokenBurst + (tokenRate * (charges[j].At - charges[i].At)) + overdraft + 1e-6;
                Assert.True(sum <= allowed, $"{sum} tokens charged in [{charges[i].At}, {charges[j].At}], allowed {allowed}");
            }
        }

        // No polling: the gate made one timer for the partition and re-armed it only when something happened — an
        // arrival, a settlement, a release, a cancellation or a pause, or its own firing admitting someone (at most
        // four per request). Polling would arm it in proportion to the simulated minutes instead.
        Assert.True(time.TimersCreated <= 1, $"{time.TimersCreated} timers");
        Assert.True(time.TimerChanges <= (4 * scenario.Count) + pauses.Count + 1, $"{time.TimerChanges} timer changes for {scenario.Count} requests");
    }

    private sealed record Scenario(int Seed, int Concurrency, int RequestsPerMinute, int RequestBurst, int TokensPerMinute, int TokenBurstSeconds, int Count);

    private sealed record Request(double ArrivedAt, long Estimate, long Actual, int Priority, double Hold);
}
