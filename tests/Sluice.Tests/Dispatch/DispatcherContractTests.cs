using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Gate;
using Sluice.Tests.Dispatch.Support;

namespace Sluice.Tests.Dispatch;

/// <summary>The dispatcher's public edges: arguments checked before anything runs, and the traces a job leaves.</summary>
public sealed class DispatcherContractTests : IDisposable
{
    private readonly SluiceGate _gate = SluiceGate.Create(new GateOptions(), new FakeTimeProvider());
    private readonly SluiceDispatcher _dispatcher;

    public DispatcherContractTests() =>
        _dispatcher = SluiceDispatcher.Create(_gate, new DispatcherOptions { MaxAttempts = 1, LearnAttemptTimeout = false, HedgeSlowAttempts = false }, random: new Random(1));

    public void Dispose()
    {
        _dispatcher.Dispose();
        _gate.Dispose();
    }

    public static TheoryData<string, SluiceJob> InvalidJobs => new()
    {
        { "no id", new SluiceJob("", "p") },
        { "no partition", new SluiceJob("j", "") },
        { "negative tokens", new SluiceJob("j", "p") { EstimatedTokens = -1 } },
        { "negative input tokens", new SluiceJob("j", "p") { EstimatedInputTokens = -1 } },
        { "negative output tokens", new SluiceJob("j", "p") { EstimatedOutputTokens = -1 } },
        { "a zero deadline", new SluiceJob("j", "p") { Deadline = TimeSpan.Zero } },
        { "a negative deadline", new SluiceJob("j", "p") { Deadline = TimeSpan.FromSeconds(-1) } },
    };

    [Theory]
    [MemberData(nameof(InvalidJobs))]
    public void RunAsync_WithAnInvalidJob_ThrowsBeforeAnyAttempt(string what, SluiceJob job)
    {
        int calls = 0;

        // Thrown by the call itself, synchronously: validation comes before anything is awaited.
        var thrown = Assert.ThrowsAny<ArgumentException>(() =>
        {
            _ = _dispatcher.RunAsync(job, (_, _) =>
            {
                calls++;
                return ValueTask.FromResult(AttemptOutcome.Success("ran"));
            }).AsTask();
        });

        Assert.Equal("job", thrown.ParamName);
        Assert.True(calls == 0, $"an attempt ran for a job with {what}");
    }

    [Fact]
    public async Task RunAsync_WithAllZeroEstimatesAndAShortDeadline_Runs()
    {
        // The edges of the checks above are valid: zero tokens, a deadline of one tick.
        var job = new SluiceJob("j", "p") { EstimatedTokens = 0, EstimatedInputTokens = 0, EstimatedOutputTokens = 0, Deadline = TimeSpan.FromTicks(1) };

        var result = await _dispatcher.RunAsync(job, (_, _) => ValueTask.FromResult(AttemptOutcome.Success("ran"))).DefaultTimeout();

        Assert.Equal("ran", result.Value);
    }

    [Fact]
    public void RunAsync_AndRunAllAsync_RejectMissingArguments()
    {
        Func<AttemptContext, CancellationToken, ValueTask<AttemptOutcome<string>>> attempt = (_, _) => ValueTask.FromResult(AttemptOutcome.Success("x"));
        Func<int, AttemptContext, CancellationToken, ValueTask<AttemptOutcome<string>>> itemAttempt = (_, _, _) => ValueTask.FromResult(AttemptOutcome.Success("x"));
        var items = new[] { 1 }.ToAsyncEnumerable();

        Assert.Throws<ArgumentNullException>("job", () => { _ = _dispatcher.RunAsync(null!, attempt).AsTask(); });
        Assert.Throws<ArgumentNullException>("attempt", () => { _ = _dispatcher.RunAsync<string>(new SluiceJob("j", "p"), null!).AsTask(); });
        Assert.Throws<ArgumentNullException>("items", () => _dispatcher.RunAllAsync<int, string>(null!, i => new SluiceJob($"{i}", "p"), itemAttempt));
        Assert.Throws<ArgumentNullException>("describe", () => _dispatcher.RunAllAsync<int, string>(items, null!, itemAttempt));
        Assert.Throws<ArgumentNullException>("attempt", () => _dispatcher.RunAllAsync<int, string>(items, i => new SluiceJob($"{i}", "p"), null!));
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => _dispatcher.RunAllAsync(items, i => new SluiceJob($"{i}", "p"), itemAttempt, new DispatchStreamOptions { MaxInProgress = 0 }));
        Assert.Throws<ArgumentNullException>("gate", () => SluiceDispatcher.Create(null!));
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => SluiceDispatcher.Create(_gate, new DispatcherOptions { MaxAttempts = 0 }));
    }

    [Fact]
    public async Task RunAllAsync_WhenDescribeMakesAnInvalidJob_FailsTheStreamAfterTheJobsAlreadyTaken()
    {
        var items = new[] { 1, 2, 3 }.ToAsyncEnumerable();
        var delivered = new List<string?>();

        var thrown = await Assert.ThrowsAnyAsync<ArgumentException>(async () =>
        {
            await foreach (var result in _dispatcher.RunAllAsync(
                items,
                i => new SluiceJob(i == 2 ? "" : $"{i}", "p"),
                (i, _, _) => ValueTask.FromResult(AttemptOutcome.Success($"v{i}"))))
            {
                delivered.Add(result.Value);
            }
        }).WaitAsync(TestWait.Limit);

        Assert.Equal("job", thrown.ParamName);
        Assert.Equal(["v1"], delivered);
    }

    [Fact]
    public async Task AJob_LeavesATraceOfItself_AndOfEachAttempt()
    {
        string id = $"traced-{Guid.NewGuid():N}";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Sluice",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        var result = await _dispatcher.RunAsync(new SluiceJob(id, "traced"), (_, _) => ValueTask.FromResult(AttemptOutcome.Permanent<string>("400 no"))).DefaultTimeout();

        Assert.Equal(JobStatus.Failed, result.Status);
        var job = Assert.Single(stopped, a => a.OperationName == "sluice.job" && (a.GetTagItem("sluice.job.id") as string) == id);
        Assert.Equal("traced", job.GetTagItem("sluice.partition"));
        Assert.Equal("Failed", job.GetTagItem("sluice.job.status"));
        Assert.Equal((ActivityStatusCode.Error, "400 no"), (job.Status, job.StatusDescription));

        var attempt = Assert.Single(stopped, a => a.OperationName == "sluice.attempt" && a.ParentSpanId == job.SpanId);
        Assert.Equal(1, attempt.GetTagItem("sluice.attempt.number"));
        Assert.Equal("Permanent", attempt.GetTagItem("sluice.attempt.outcome"));
        Assert.Equal((ActivityStatusCode.Error, "400 no"), (attempt.Status, attempt.StatusDescription));
    }

    [Fact]
    public async Task ASucceededJob_IsTracedWithoutAnError()
    {
        string id = $"fine-{Guid.NewGuid():N}";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Sluice",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        await _dispatcher.RunAsync(new SluiceJob(id, "traced"), (_, _) => ValueTask.FromResult(AttemptOutcome.Success("ok"))).DefaultTimeout();

        var job = Assert.Single(stopped, a => a.OperationName == "sluice.job" && (a.GetTagItem("sluice.job.id") as string) == id);
        Assert.Equal(("Succeeded", ActivityStatusCode.Unset), (job.GetTagItem("sluice.job.status"), job.Status));
        var attempt = Assert.Single(stopped, a => a.OperationName == "sluice.attempt" && a.ParentSpanId == job.SpanId);
        Assert.Equal(("Success", ActivityStatusCode.Unset), (attempt.GetTagItem("sluice.attempt.outcome"), attempt.Status));
    }
}
