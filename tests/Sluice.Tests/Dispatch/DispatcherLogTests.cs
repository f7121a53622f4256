using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

/// <summary>What an operator reads: each ending, retry, throttle and drain is logged once, with its event id.</summary>
public sealed class DispatcherLogTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly SluiceGate _gate;

    public DispatcherLogTests()
    {
        _loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(_logs));
        _gate = SluiceGate.Create(new GateOptions(), _time);
    }

    public void Dispose()
    {
        _gate.Dispose();
        _loggerFactory.Dispose();
        _logs.Dispose();
    }

    [Fact]
    public void Drain_LogsOnce_HoweverOftenItIsCalled()
    {
        using var dispatcher = Dispatcher();

        dispatcher.Drain();
        dispatcher.Drain();

        Assert.True(dispatcher.IsDraining);
        Assert.Single(Events(204));
    }

    [Fact]
    public async Task AFailedJob_LogsAWarningWithItsAttemptsAndReason_ANotCompletedOne_AnInformation_ASuccess_Neither()
    {
        using var dispatcher = Dispatcher(o => o.MaxAttempts = 1);

        await Run(dispatcher, "ok", AttemptOutcome.Success("fine"));
        Assert.Empty(Events(202));
        Assert.Empty(Events(203));

        await Run(dispatcher, "bad", AttemptOutcome.Permanent<string>("400 bad request"));
        var failed = Assert.Single(Events(202));
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Equal("Job bad failed after 1 attempts: Permanent: 400 bad request", failed.Message);

        await Run(dispatcher, "quota", AttemptOutcome.QuotaExhausted<string>("monthly quota"));
        var notCompleted = Assert.Single(Events(203));
        Assert.Equal("Job quota not completed (QuotaExhausted); it can be run again", notCompleted.Message);
        Assert.Single(Events(202));
    }

    [Theory]
    [InlineData(false, 201)]
    [InlineData(true, 206)]
    public async Task ARetry_IsLoggedWithItsBackoff_SayingWhenItMayBeShortened(bool shorten, int eventId)
    {
        using var dispatcher = Dispatcher(o =>
        {
            o.MaxAttempts = 2;
            o.ShortenIdleBackoff = shorten;
        });
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("j", "p"), (_, _) => ValueTask.FromResult(
            Interlocked.Increment(ref calls) == 1 ? AttemptOutcome.Transient<string>("500") : AttemptOutcome.Success("ok"))).AsTask();
        await TestWait.Eventually(() => Events(eventId).Count == 1, "the retry logged");

        var retry = Assert.Single(Events(eventId));
        Assert.Contains("Job j attempt 1 failed transiently (500); retrying in 00:00:01", retry.Message);
        Assert.Empty(Events(shorten ? 201 : 206));
        // Only lets the job end; the virtual limit is generous (a busy machine may preempt the retry while the clock runs on).
        await new FakeTimeDriver(_time).RunUntilAsync(job, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task AThrottle_IsLoggedWithThePartitionsPause()
    {
        using var dispatcher = Dispatcher();
        int calls = 0;

        var job = dispatcher.RunAsync(new SluiceJob("j", "p"), (_, _) => ValueTask.FromResult(
            Interlocked.Increment(ref calls) == 1 ? AttemptOutcome.Throttled<string>(TimeSpan.FromSeconds(7)) : AttemptOutcome.Success("ok"))).AsTask();
        await TestWait.Eventually(() => Events(200).Count == 1, "the throttle logged");

        Assert.Equal("Job j attempt 1 throttled; partition p pauses 00:00:07", Assert.Single(Events(200)).Message);
        // Only lets the job end; the virtual limit is generous (a busy machine may preempt the retry while the clock runs on).
        await new FakeTimeDriver(_time).RunUntilAsync(job, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1));
    }

    private SluiceDispatcher Dispatcher(Action<DispatcherOptions>? configure = null)
    {
        var options = new DispatcherOptions
        {
            RetryJitter = 0,
            ThrottleJitter = 0,
            LearnAttemptTimeout = false,
            HedgeSlowAttempts = false,
            ShortenIdleBackoff = false,
        };
        configure?.Invoke(options);
        return SluiceDispatcher.Create(_gate, options, _loggerFactory, new Random(1));
    }

    private static Task<JobResult<string>> Run(SluiceDispatcher dispatcher, string id, AttemptOutcome<string> outcome) =>
        dispatcher.RunAsync(new SluiceJob(id, "p"), (_, _) => ValueTask.FromResult(outcome)).DefaultTimeout();

    private List<FakeLogRecord> Events(int id) =>
        [.. _logs.Collector.GetSnapshot().Where(r => r.Category == "Sluice.Dispatch" && r.Id.Id == id)];
}
