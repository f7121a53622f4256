using CsCheck;
using Sluice.Gate;

namespace Sluice.Tests.Gate;

/// <summary>
/// No dimension's budget is exceeded in any window, over random workloads with every dimension at once: requests,
/// tokens, input and output tokens per minute (token buckets: in any interval at most capacity + rate × its length,
/// plus the overdraft of a request larger than the bucket, settlements counted when they happen), and requests and
/// tokens per day (sliding logs: no day holds more than the limit, by what was known at each admission). Every
/// reservation is settled with a random actual cost, high or low. The clock jumps from event to event.
/// </summary>
public sealed class BudgetDimensionPropertyTests
{
    private static readonly BudgetDimension[] Buckets = [BudgetDimension.Tokens, BudgetDimension.InputTokens, BudgetDimension.OutputTokens];

    private static readonly Gen<Scenario> Scenarios =
        from seed in Gen.Int
        from concurrency in Gen.Int[1, 16]
        from tokens in Gen.Int[6_000, 120_000]
        from input in Gen.Int[3_000, 60_000]
        from output in Gen.Int[600, 12_000]
        from requestsPerDay in Gen.Int[20, 120]
        from tokensPerDay in Gen.Int[20_000, 200_000]
        from days in Gen.Double[0.001, 3]
        from count in Gen.Int[40, 200]
        select new Scenario(seed, concurrency, tokens, input, output, requestsPerDay, tokensPerDay, days, count);

    [Fact]
    public void Admissions_NeverExceedAnyDimensionsBudget_InAnyWindow() =>
        Scenarios.Sample(Simulate, iter: 60, threads: 1);

    private static void Simulate(Scenario scenario)
    {
        var random = new Random(scenario.Seed);
        var limits = new PartitionLimits
        {
            MaxConcurrency = scenario.Concurrency,
            TokensPerWindow = scenario.Tokens,
            InputTokensPerWindow = scenario.Input,
            OutputTokensPerWindow = scenario.Output,
            RequestsPerDay = scenario.RequestsPerDay,
            TokensPerDay = scenario.TokensPerDay,
        };
        var time = new TrackingTimeProvider();
        using var gate = SluiceGate.Create(new GateOptions { DefaultLimits = limits }, time);
        var partition = gate.GetPartition("p");
        var start = time.GetUtcNow();
        double Now() => (time.GetUtcNow() - start).TotalSeconds;

        var events = new PriorityQueue<Action, (double At, long Order)>();
        long order = 0;
        void Schedule(double at, Action action) => events.Enqueue(action, (at, order++));

        var pending = new List<(Task<GateLease> Task, Cost Estimate, Cost Actual, double Hold)>();
        var charges = Buckets.ToDictionary(d => d, _ => new List<(double At, double Amount, long Admitted)>());
        var day = new List<Admission>();
        int inFlight = 0, admitted = 0;

        void CollectAdmissions()
        {
            for (int i = pending.Count - 1; i >= 0; i--)
            {
                var (task, estimate, actual, hold) = pending[i];
                if (!task.IsCompleted)
                {
                    continue;
                }

                pending.RemoveAt(i);
                var lease = task.Result;
                Assert.True(lease.IsAdmitted, $"rejected: {lease.Rejection}");
                double at = Now();
                admitted++;
                Assert.True(++inFlight <= scenario.Concurrency, $"{inFlight} in flight over {scenario.Concurrency}");
                foreach (var dimension in Buckets)
                {
                    charges[dimension].Add((at, estimate.For(dimension), estimate.For(dimension)));
                }

                CheckDay(day, new Admission(at, estimate.Tokens), scenario);
                var admission = day[^1];
                Schedule(at + hold, () =>
                {
                    // A refund may admit a waiter at once: record each settlement before whatever it lets in.
                    foreach (var dimension in Buckets)
                    {
                        lease.Settle(dimension, actual.For(dimension));
                        charges[dimension].Add((Now(), actual.For(dimension) - estimate.For(dimension), -1));
                        if (dimension == BudgetDimension.Tokens)
                        {
                            admission.Settled = actual.Tokens;
                        }

                        CollectAdmissions();
                    }

                    inFlight--;
                    lease.Dispose();
                });
            }
        }

        double span = scenario.Days * 86_400;
        for (int i = 0; i < scenario.Count; i++)
        {
            // Arrivals come in bunches, so the per-minute buckets bind within a bunch and the per-day logs across them.
            double arrival = (random.Next(4) * span / 4) + (random.NextDouble() * Math.Min(span, 60));
            var estimate = new Cost(random.Next(1, 3_000), random.Next(1, random.Next(8) == 0 ? 2_000 : 400));
            var actual = new Cost((long)(estimate.Input * (0.5 + random.NextDouble())), (long)(estimate.Output * random.NextDouble() * 1.2));
            double hold = 0.01 + (random.NextDouble() * 5);
            Schedule(arrival, () =>
            {
                var request = new AdmissionRequest(estimate.Tokens) { InputTokens = estimate.Input, OutputTokens = estimate.Output };
                pending.Add((partition.Enter(request), estimate, actual, hold));
            });
        }

        GateEventLoop.Run(time, start, events, CollectAdmissions);

        Assert.Empty(pending);
        Assert.Equal(scenario.Count, admitted);
        foreach (var dimension in Buckets)
        {
            double perMinute = dimension switch
            {
                BudgetDimension.Tokens => scenario.Tokens,
                BudgetDimension.InputTokens => scenario.Input,
                _ => scenario.Output,
            };
            CheckBucket(dimension, charges[dimension], perMinute / 60.0);
        }

        Assert.True(time.TimersCreated <= 1, $"{time.TimersCreated} timers");
    }

    /// <summary>From any event up to an admission, charges ≤ capacity (a second's worth) + rate × Δt + the admission's overdraft.</summary>
    private static void CheckBucket(BudgetDimension dimension, List<(double At, double Amount, long Admitted)> charges, double rate)
    {
        double capacity = Math.Max(1, rate);
        for (int j = 0; j < charges.Count; j++)
        {
            if (charges[j].Admitted < 0)
            {
                continue;
            }

            double overdraft = Math.Max(0, charges[j].Admitted - capacity);
            double sum = 0;
            for (int i = j; i >= 0; i--)
            {
                sum += charges[i].Amount;
                double allowed = capacity + (rate * (charges[j].At - charges[i].At)) + overdraft + 1e-6;
                Assert.True(sum <= allowed, $"{dimension}: {sum} charged in [{charges[i].At}, {charges[j].At}], allowed {allowed}");
            }
        }
    }

    /// <summary>At each admission, the trailing day holds at most the per-day limits (what was known then; a larger request only alone).</summary>
    private static void CheckDay(List<Admission> day, Admission next, Scenario scenario)
    {
        day.Add(next);
        var inWindow = day.Where(a => a.At > next.At - 86_400 + 1e-6).ToList();
        Assert.True(inWindow.Count <= scenario.RequestsPerDay, $"{inWindow.Count} requests in a day, allowed {scenario.RequestsPerDay}");
        double tokens = inWindow.Sum(a => a.Settled ?? a.Reserved);
        double allowed = Math.Max(scenario.TokensPerDay, next.Reserved) + 1e-6;
        Assert.True(tokens <= allowed, $"{tokens} tokens in the day before {next.At}, allowed {allowed}");
    }

    private sealed record Scenario(int Seed, int Concurrency, int Tokens, int Input, int Output, int RequestsPerDay, int TokensPerDay, double Days, int Count);

    private readonly record struct Cost(long Input, long Output)
    {
        public long Tokens => Input + Output;

        public long For(BudgetDimension dimension) => dimension switch
        {
            BudgetDimension.InputTokens => Input,
            BudgetDimension.OutputTokens => Output,
            _ => Tokens,
        };
    }

    private sealed class Admission(double at, long reserved)
    {
        public double At { get; } = at;

        public long Reserved { get; } = reserved;

        public long? Settled { get; set; }
    }
}
