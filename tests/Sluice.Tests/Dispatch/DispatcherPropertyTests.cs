using System.Collections.Concurrent;
using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;
using Xunit.Abstractions;

namespace Sluice.Tests.Dispatch;

/// <summary>
/// Random scripts of outcomes over many jobs and partitions. The properties are about exactly-once endings and
/// budgets, so they hold however the thread pool interleaves the jobs. The clock is a <see cref="FakeTimeProvider"/>
/// driven in steps, and admissions are stamped from inside the attempt.
/// </summary>
/// <remarks>
/// How exact the stamps are: the gate reads the clock and counts the lease in flight in one locked section, and the
/// attempt stamps "now" before it counts itself inside. The driver advances only when every partition's in-flight
/// count (read under that lock) equals the attempts inside, so between an admission and its stamp the clock can move
/// at most once — when the driver had already decided to step as the admission began. A stamp is therefore the
/// admission instant or one step after it, and the budget check allows for exactly that: burst + rate · step.
/// </remarks>
public sealed class DispatcherPropertyTests(ITestOutputHelper output)
{
    private const int MaxAttempts = 4;

    // The driver's step. Every rate · Step below is under one request, so one admission too many always shows.
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    private static readonly IReadOnlyDictionary<string, PartitionLimits> Partitions = new Dictionary<string, PartitionLimits>
    {
        ["p0"] = new() { MaxConcurrency = 4, RequestsPerWindow = 3_000, RequestBurst = 10 },
        ["p1"] = new() { MaxConcurrency = 8, RequestsPerWindow = 4_800, RequestBurst = 20 },
        ["p2"] = new() { MaxConcurrency = 2, RequestsPerWindow = 1_200, RequestBurst = 5, Window = TimeSpan.FromSeconds(30) },
    };

    [Fact]
    public async Task RunAllAsync_OverTenThousandScriptedJobs_EndsEachOnceWithinAttemptsConcurrencyAndBudgets()
    {
        var random = new Random(7_301);
        var jobs = Enumerable.Range(0, 10_000).Select(i => ScriptedJob.Random($"job-{i}", PickPartition(random), random)).ToList();

        var run = await RunAsync(jobs, seed: 7_301, stream: true, tail: false);

        run.AssertInvariants(jobs, tail: false);
        output.WriteLine(run.Summary);
    }

    [Fact]
    public async Task RunAllAsync_WithHedgesLearnedTimeoutsAndIdleBackoff_EndsEachOnceWithinAttemptsConcurrencyAndBudgets()
    {
        var random = new Random(7_302);
        var jobs = Enumerable.Range(0, 3_000).Select(i => ScriptedJob.Random($"job-{i}", PickPartition(random), random)).ToList();

        var run = await RunAsync(jobs, seed: 7_302, stream: true, tail: true);

        run.AssertInvariants(jobs, tail: true);
        output.WriteLine(run.Summary);
    }

    [Fact]
    public async Task RunAsync_OverRandomScriptsAndArrivals_EndsEachOnceWithinAttemptsConcurrencyAndBudgets()
    {
        await Gen.Int.SampleAsync(
            async seed =>
            {
                var random = new Random(seed);
                var jobs = Enumerable.Range(0, 300).Select(i => ScriptedJob.Random($"job-{i}", PickPartition(random), random)).ToList();
                var run = await RunAsync(jobs, seed, stream: false, tail: false);
                run.AssertInvariants(jobs, tail: false);
            },
            iter: 8,
            threads: 1).WaitAsync(TimeSpan.FromMinutes(2)); // each run is bounded by its driver; this bounds shrinking too
    }

    [Fact]
    public async Task RunAsync_WithHedgesLearnedTimeoutsAndIdleBackoff_OverRandomScriptsAndArrivals_EndsEachOnce()
    {
        await Gen.Int.SampleAsync(
            async seed =>
            {
                var random = new Random(seed);
                var jobs = Enumerable.Range(0, 300).Select(i => ScriptedJob.Random($"job-{i}", PickPartition(random), random)).ToList();
                var run = await RunAsync(jobs, seed, stream: false, tail: true);
                run.AssertInvariants(jobs, tail: true);
            },
            iter: 8,
            threads: 1).WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static string PickPartition(Random random) => random.Next(10) switch
    {
        < 4 => "p0",
        < 9 => "p1",
        _ => "p2",
    };

    /// <summary>
    /// Runs <paramref name="jobs"/> to their ends: as one stream, or one by one at random virtual arrival times; with
    /// the tail's shortcuts (learned timeouts, hedges, short idle backoffs) on when <paramref name="tail"/>, else off
    /// so that every call's outcome is the one the job acts on.
    /// </summary>
    private static async Task<Run> RunAsync(IReadOnlyList<ScriptedJob> jobs, int seed, bool stream, bool tail)
    {
        var time = new FakeTimeProvider();
        var gateOptions = new GateOptions();
        foreach (var (key, limits) in Partitions)
        {
            gateOptions.Partitions[key] = limits;
        }

        using var gate = SluiceGate.Create(gateOptions, time);
        var options = new DispatcherOptions
        {
            MaxAttempts = MaxAttempts,
            BaseRetryDelay = TimeSpan.FromMilliseconds(100),
            MaxRetryDelay = TimeSpan.FromSeconds(2),
            RetryJitter = 0.5,
            MaxThrottlePause = TimeSpan.FromSeconds(5),
            AttemptTimeout = TimeSpan.FromSeconds(10),
            LearnAttemptTimeout = tail,
            MinLearnedAttemptTimeout = TimeSpan.FromMilliseconds(50),
            HedgeSlowAttempts = tail,
            ShortenIdleBackoff = tail,
        };
        using var dispatcher = SluiceDispatcher.Create(gate, options, loggerFactory: null, new Random(seed));
        var run = new Run(time, gate);
        var driver = new FakeTimeDriver(time, run.IsQuiet);
        var started = time.GetUtcNow();

        Task work;
        if (stream)
        {
            work = Task.Run(async () =>
            {
                await foreach (var result in dispatcher.RunAllAsync<ScriptedJob, int>(
                    new CountingSource<ScriptedJob>(jobs),
                    job => job.Job,
                    run.AttemptAsync,
                    new DispatchStreamOptions { MaxInProgress = 500 }))
                {
                    run.Record(result);
                }
            });
        }
        else
        {
            var arrivals = new Random(seed);
            var arrivalMs = jobs.Select(_ => arrivals.Next(0, 20_000)).ToList();
            work = Task.WhenAll(jobs.Select((job, i) => Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(arrivalMs[i]), time);
                run.Record(await dispatcher.RunAsync<int>(job.Job, (context, token) => run.AttemptAsync(job, context, token)));
            })));
        }

        await driver.RunUntilAsync(work, Step, TimeSpan.FromHours(2));
        run.Elapsed = time.GetUtcNow() - started;
        return run;
    }

    /// <summary>A job and the outcomes its attempts will get, one per call; calls past the script succeed.</summary>
    private sealed record ScriptedJob(SluiceJob Job, (AttemptOutcomeKind Kind, int LatencyMs, int RetryAfterMs)[] Script)
    {
        public int Calls;

        public static ScriptedJob Random(string id, string partition, Random random)
        {
            var script = new (AttemptOutcomeKind, int, int)[random.Next(1, 8)];
            for (int i = 0; i < script.Length; i++)
            {
                var kind = random.Next(100) switch
                {
                    < 85 => AttemptOutcomeKind.Success,
                    < 95 => AttemptOutcomeKind.Transient,
                    < 98 => AttemptOutcomeKind.Permanent,
                    _ => AttemptOutcomeKind.Throttled,
                };
                script[i] = (kind, random.Next(0, 4) == 0 ? 0 : random.Next(1, 150), random.Next(-1, 1_000));
            }

            return new ScriptedJob(new SluiceJob(id, partition), script);
        }
    }

    /// <summary>Everything observed during a run, and the invariants over it.</summary>
    private sealed class Run(FakeTimeProvider time, SluiceGate gate)
    {
        private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _admissions = new();
        private readonly ConcurrentDictionary<string, StrongCounter> _inside = new();
        private readonly ConcurrentDictionary<string, List<AttemptOutcomeKind>> _outcomes = new();
        private readonly ConcurrentQueue<JobResult<int>> _results = new();

        public TimeSpan Elapsed { get; set; }

        public string Summary { get; private set; } = "";

        /// <summary>Quiet when every lease the gate has admitted is inside its attempt (so its admission has been stamped).</summary>
        public bool IsQuiet() => gate.Partitions.All(p => p.GetSnapshot().InFlight == Inside(p.Key).Current);

        public void Record(JobResult<int> result) => _results.Enqueue(result);

        public async ValueTask<AttemptOutcome<int>> AttemptAsync(ScriptedJob job, AttemptContext context, CancellationToken token)
        {
            string partition = context.Job.Partition;
            _admissions.GetOrAdd(partition, _ => new ConcurrentQueue<DateTimeOffset>()).Enqueue(time.GetUtcNow());
            var inside = Inside(partition);
            inside.Enter();
            try
            {
                int call = Interlocked.Increment(ref job.Calls) - 1;
                var (kind, latencyMs, retryAfterMs) = call < job.Script.Length ? job.Script[call] : (AttemptOutcomeKind.Success, 0, 0);
                if (latencyMs > 0)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(latencyMs), time, token).ConfigureAwait(false);
                }

                var outcomes = _outcomes.GetOrAdd(job.Job.Id, _ => []);
                lock (outcomes)
                {
                    outcomes.Add(kind);
                }

                TimeSpan? retryAfter = retryAfterMs < 0 ? null : TimeSpan.FromMilliseconds(retryAfterMs);
                return kind switch
                {
                    AttemptOutcomeKind.Success => AttemptOutcome.Success(call),
                    AttemptOutcomeKind.Permanent => AttemptOutcome.Permanent<int>("400"),
                    AttemptOutcomeKind.Throttled => AttemptOutcome.Throttled<int>(retryAfter),
                    _ when call % 2 == 0 => throw new IOException("connection reset"),
                    _ => AttemptOutcome.Transient<int>("503"),
                };
            }
            finally
            {
                inside.Exit();
            }
        }

        public void AssertInvariants(IReadOnlyList<ScriptedJob> jobs, bool tail)
        {
            // Every job ends exactly once.
            var results = _results.ToList();
            var byId = results.GroupBy(r => r.Job.Id).ToDictionary(g => g.Key, g => g.ToList());
            var twice = byId.Where(g => g.Value.Count > 1).Select(g => g.Key).Take(5).ToList();
            Assert.True(twice.Count == 0, $"jobs ended more than once: {string.Join(", ", twice)}");
            var missing = jobs.Select(j => j.Job.Id).Where(id => !byId.ContainsKey(id)).Take(5).ToList();
            Assert.True(missing.Count == 0, $"jobs that never ended: {string.Join(", ", missing)}");
            Assert.Equal(jobs.Count, results.Count);

            foreach (var job in jobs)
            {
                var result = byId[job.Job.Id][0];
                var outcomes = _outcomes.TryGetValue(job.Job.Id, out var list) ? list : [];
                int transient = outcomes.Count(k => k == AttemptOutcomeKind.Transient);
                int throttles = outcomes.Count(k => k == AttemptOutcomeKind.Throttled);

                // Transient failures never exceed the attempt limit; throttles use no attempt.
                Assert.True(transient <= MaxAttempts, $"{job.Job.Id} failed transiently {transient} times");
                Assert.True(result.Attempts <= MaxAttempts, $"{job.Job.Id} used {result.Attempts} attempts");
                if (tail)
                {
                    // Every call counts, a hedge or a try cut short included, and the ending is one that some call
                    // answered: the first answer wins, so a loser's answer may come later. A try and its hedge may both
                    // answer within one step of the clock; the loser's answer is discarded, so a throttle it got is not
                    // the job's (then the hedge counted as an attempt and the throttle as a call).
                    int discardedThrottles = throttles - result.Throttles;
                    Assert.InRange(discardedThrottles, 0, Math.Max(0, job.Calls - 1));
                    Assert.Equal(job.Calls - throttles, result.Attempts - discardedThrottles);
                    Assert.Contains((result.Status, result.Reason), outcomes.Select(Ending));
                    continue;
                }

                Assert.Equal(throttles, result.Throttles);

                Assert.Equal(outcomes.Count - throttles, result.Attempts);

                // The ending follows from the last outcome.
                Assert.Equal(Ending(outcomes[^1]), (result.Status, result.Reason));
            }

            // Never more attempts in flight than a partition's concurrency; never more admissions in any interval
            // than its request budget allows: rate · length + burst.
            int unanswered = jobs.Sum(j => j.Calls - (_outcomes.TryGetValue(j.Job.Id, out var o) ? o.Count : 0));
            var lines = new List<string> { $"{results.Count} jobs in {Elapsed} of virtual time; {unanswered} calls cancelled before answering (hedges that lost)" };
            foreach (var (key, limits) in Partitions)
            {
                int most = Inside(key).Most;
                Assert.True(most <= limits.MaxConcurrency, $"{key}: {most} attempts in flight, limit {limits.MaxConcurrency}");

                var instants = _admissions.TryGetValue(key, out var queue) ? queue.Order().ToArray() : [];
                double ratePerSecond = limits.RequestsPerWindow!.Value / limits.Window.TotalSeconds;
                double worst = WorstExcess(instants, ratePerSecond);
                double stampSlack = ratePerSecond * Step.TotalSeconds;
                Assert.True(stampSlack < 1, "the step is too long for the check to see one admission too many");
                Assert.True(
                    worst <= limits.RequestBurst!.Value + stampSlack + 1e-6,
                    $"{key}: an interval held {worst:0.###} more admissions than its steady rate allows; the burst is {limits.RequestBurst}");
                lines.Add($"{key}: {instants.Length} admissions, most in flight {most}/{limits.MaxConcurrency}, worst excess over rate {worst:0.##} (burst {limits.RequestBurst})");
            }

            Summary = string.Join(Environment.NewLine, lines);
        }

        private static (JobStatus, JobEndReason) Ending(AttemptOutcomeKind kind) => kind switch
        {
            AttemptOutcomeKind.Success => (JobStatus.Succeeded, JobEndReason.None),
            AttemptOutcomeKind.Permanent => (JobStatus.Failed, JobEndReason.Permanent),
            AttemptOutcomeKind.Transient => (JobStatus.Failed, JobEndReason.AttemptsExhausted),
            _ => (JobStatus.NotCompleted, JobEndReason.None),
        };

        private StrongCounter Inside(string partition) => _inside.GetOrAdd(partition, _ => new StrongCounter());

        /// <summary>
        /// max over i ≤ j of (admissions in [tᵢ, tⱼ]) − rate · (tⱼ − tᵢ), in one pass: with instants sorted it is
        /// max over j of (j + 1 − rate · tⱼ) − min over i ≤ j of (i − rate · tᵢ).
        /// </summary>
        private static double WorstExcess(DateTimeOffset[] instants, double ratePerSecond)
        {
            double worst = 0;
            double lowestStart = double.MaxValue;
            for (int j = 0; j < instants.Length; j++)
            {
                double at = ratePerSecond * (instants[j] - instants[0]).TotalSeconds;
                lowestStart = Math.Min(lowestStart, j - at);
                worst = Math.Max(worst, j + 1 - at - lowestStart);
            }

            return worst;
        }
    }

    /// <summary>A counter of calls in progress that remembers its highest value.</summary>
    private sealed class StrongCounter
    {
        private int _current;
        private int _most;

        public int Current => Volatile.Read(ref _current);

        public int Most => Volatile.Read(ref _most);

        public void Enter()
        {
            int now = Interlocked.Increment(ref _current);
            int seen = Volatile.Read(ref _most);
            while (now > seen)
            {
                int previous = Interlocked.CompareExchange(ref _most, now, seen);
                if (previous == seen)
                {
                    break;
                }

                seen = previous;
            }
        }

        public void Exit() => Interlocked.Decrement(ref _current);
    }
}
