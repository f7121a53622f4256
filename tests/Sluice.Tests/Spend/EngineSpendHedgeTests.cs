using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Spend;
using Sluice.Tests.Dispatch.Support;
using Sluice.Tests.Engine;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Spend;

/// <summary>
/// A hedge is a try like any other: it reserves its own worst case, and a try cut off for it keeps its worst case; a
/// hedge a cap has no room for is not sent and leaves the first try to answer for the job.
/// </summary>
public sealed class EngineSpendHedgeTests
{
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(10);

    [Fact]
    public async Task AHedge_ReservesItsOwnWorstCase_AndTheTryItBeatKeepsItsWorstCase()
    {
        var time = new FakeTimeProvider();
        var cap = new SpendCap(1m);
        var seenByHedge = new List<SpendCapSnapshot>();
        var upstream = new HangingFirstUpstream(time, onHedge: () => seenByHedge.Add(cap.GetSnapshot()));
        using var engine = Hedging(upstream, time, out var driver, loggers: null);
        await WarmUpAsync(engine, driver);
        var request = await engine.CaptureAsync(Post(url: Slow));
        decimal worst = engine.EstimateCost(request)!.Value;
        decimal answered = engine.CostOf(request, new Sluice.Providers.TokenUsage(10, 7, 3))!.Value;

        var end = await driver.RunUntilAsync(engine.SendAsync(request, new SluiceSendOptions { SpendCaps = [cap] }), Step, TimeSpan.FromMinutes(1));

        Assert.True(end.IsSuccess, end.Error);
        Assert.Equal(2, upstream.SlowCalls);
        Assert.Equal([new SpendCapSnapshot(1m, 0, 2 * worst, null)], seenByHedge);
        await TestWait.Eventually(() => cap.GetSnapshot().Reserved == 0, "the cut try settled");
        Assert.Equal(new SpendCapSnapshot(1m, worst + answered, 0, null), cap.GetSnapshot());
        Assert.Equal(worst + answered, end.Cost);
        end.Message!.Dispose();
    }

    [Fact]
    public async Task AHedgeTheCapRefuses_IsNotSent_AndTheFirstTryStillAnswersForTheJob()
    {
        var time = new FakeTimeProvider();
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var upstream = new HangingFirstUpstream(time, onHedge: () => throw new InvalidOperationException("the hedge was sent"));
        using var engine = Hedging(upstream, time, out var driver, loggers);
        await WarmUpAsync(engine, driver);
        var request = await engine.CaptureAsync(Post(url: Slow));
        decimal worst = engine.EstimateCost(request)!.Value;
        var cap = new SpendCap(worst * 1.5m);

        var job = engine.SendAsync(request, new SluiceSendOptions { SpendCaps = [cap] });
        await driver.AdvanceAsync(Latency * 5);
        await TestWait.Eventually(() => logs.Collector.GetSnapshot().Any(r => r.Message.Contains("not sent", StringComparison.Ordinal)), "the hedge refused");
        Assert.False(job.IsCompleted, "the refused hedge ended the job");
        upstream.AnswerFirst();
        var end = await job.DefaultTimeout();

        Assert.True(end.IsSuccess, end.Error);
        Assert.Equal(1, upstream.SlowCalls);
        Assert.Equal(0m, cap.GetSnapshot().Reserved);
        Assert.Equal(end.Cost, cap.GetSnapshot().Settled);
        end.Message!.Dispose();
    }

    private const string Slow = "https://api.example.com/v1/chat/completions?slow";

    private static SluiceEngine Hedging(HangingFirstUpstream upstream, FakeTimeProvider time, out FakeTimeDriver driver, ILoggerFactory? loggers)
    {
        var options = new SluiceHandlerOptions
        {
            DefaultLimits = new PartitionLimits { MaxConcurrency = 4 },
            AdaptiveConcurrency = false,
            Retry = new DispatcherOptions { MaxAttempts = 3, HedgeSlowAttempts = true, LearnAttemptTimeout = false, AttemptTimeout = null },
        };
        var engine = new SluiceEngine(options, upstream, time, loggers, random: new Random(1));
        driver = new FakeTimeDriver(time);
        return engine;
    }

    /// <summary>Teaches the partition its latency: answers of exactly 100 ms, enough to hedge on.</summary>
    private static async Task WarmUpAsync(SluiceEngine engine, FakeTimeDriver driver)
    {
        var warm = new List<Task<SluiceResponse>>();
        for (int i = 0; i < LatencyTracker.MinSamples; i++)
        {
            warm.Add(engine.SendAsync(await engine.CaptureAsync(Post())));
        }

        foreach (var end in await driver.RunUntilAsync(Task.WhenAll(warm), Step, TimeSpan.FromMinutes(1)))
        {
            Assert.True(end.IsSuccess, end.Error);
            end.Message!.Dispose();
        }
    }

    /// <summary>Answers after 100 ms; the slow address's first try hangs until told, its hedge answers at once.</summary>
    private sealed class HangingFirstUpstream(FakeTimeProvider time, Action onHedge) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _slowCalls;

        public int SlowCalls => Volatile.Read(ref _slowCalls);

        public void AnswerFirst() => _first.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.Query != "?slow")
            {
                await Task.Delay(Latency, time, cancellationToken);
                return ScriptedTransport.Completion();
            }

            if (Interlocked.Increment(ref _slowCalls) == 1)
            {
                await _first.Task.WaitAsync(cancellationToken);
                return ScriptedTransport.Completion();
            }

            onHedge();
            return ScriptedTransport.Completion();
        }
    }
}
