using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>
/// A job interrupted while it retries (the caller cancels, the deadline passes, the proxy's wait limit runs out) ends
/// with the interruption as its outcome: no earlier try's answer reaches the caller, so none can reach it disposed.
/// </summary>
public sealed class EngineInterruptionTests
{
    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Send_CallerCancelsDuringARetry_EndsCanceled_WithNoEarlierAnswer_AndReleasesIt(HttpStatusCode first)
    {
        var time = new FakeTimeProvider();
        var upstream = new HangingUpstream(first);
        using var engine = Make(upstream, time);
        using var cancel = new CancellationTokenSource();
        var sending = engine.SendAsync(await engine.CaptureAsync(Post()), cancellationToken: cancel.Token);

        var driver = Driver(time, engine, upstream);
        await driver.RunUntilAsync(upstream.SecondTryStarted, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        await cancel.CancelAsync();
        var result = await sending.DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Null(result.Message);
        Assert.True(upstream.Answers[0].Disposed, "the earlier try's answer was never released");
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    public async Task Send_DeadlinePassesDuringARetry_EndsDeadlineExceeded_WithNoEarlierAnswer(HttpStatusCode first)
    {
        var time = new FakeTimeProvider();
        var upstream = new HangingUpstream(first);
        using var engine = Make(upstream, time, o => o.Retry.JobDeadline = TimeSpan.FromSeconds(30));

        var result = await Driver(time, engine, upstream).RunUntilAsync(
            engine.SendAsync(await engine.CaptureAsync(Post())), TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(5));

        Assert.Equal(2, upstream.Calls);
        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        Assert.Null(result.Message);
        Assert.True(upstream.Answers[0].Disposed, "the earlier try's answer was never released");
    }

    [Fact]
    public async Task Handler_DeadlinePassesDuringARetry_ThrowsTheTimeout_NeverADisposedResponse()
    {
        var time = new FakeTimeProvider();
        var upstream = new HangingUpstream(HttpStatusCode.TooManyRequests);
        using var engine = Make(upstream, time, o => o.Retry.JobDeadline = TimeSpan.FromSeconds(30));
        using var client = new HttpClient(new SluiceHandler(engine) { InnerHandler = upstream });

        var sending = client.SendAsync(Post());
        var driver = Driver(time, engine, upstream);
        await Assert.ThrowsAsync<TaskCanceledException>(() => driver.RunUntilAsync(sending, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(5)));
        Assert.Equal(2, upstream.Calls);
    }

    [Theory]
    [InlineData("Retry-After", "0")]
    [InlineData("Retry-After", "-30")]
    [InlineData("Retry-After", "Thu, 01 Jan 1970 00:00:00 GMT")]
    [InlineData("retry-after-ms", "0")]
    public async Task Send_AnUpstreamThatOnlyRefusesWithNoWait_GetsAFewTries_AndTheDeadlineHolds(string header, string value)
    {
        var time = new FakeTimeProvider();
        var transport = new ScriptedTransport((_, _) =>
        {
            var refusal = ScriptedTransport.Json(HttpStatusCode.TooManyRequests, """{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}""");
            refusal.Headers.TryAddWithoutValidation(header, value);
            return refusal;
        });
        using var engine = Make(transport, time, o => o.Retry.JobDeadline = TimeSpan.FromSeconds(2));

        // Quiet only while no try is in flight: a first try is slow in real time (the HTTP stack's first use), and the
        // clock must not run on while it is.
        var driver = new FakeTimeDriver(time, () => engine.Gate.Partitions.All(p => p.GetSnapshot().InFlight == 0));
        var result = await driver.RunUntilAsync(
            engine.SendAsync(await engine.CaptureAsync(Post())), TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1));

        // Pauses of 50, 100, 200, 400 and 800 ms (and a little jitter) fit in two seconds; the next does not.
        Assert.InRange(transport.Calls, 3, 6); // 5 or 6 on time; a clock running ahead of late continuations can only delay tries
        Assert.Equal(JobEndReason.DeadlineExceeded, result.Reason);
        // Ends at the deadline; the fake clock's driver may run a few 10 ms steps ahead of a loaded machine (60 ms seen).
        Assert.InRange(result.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2.5));
        Assert.Null(result.Message);
        Assert.Contains("while it waited; the last try: HTTP 429", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ATryCutByItsTimeout_IsReportedEnded_SoAFaceCountingWaitingResumesItsClock()
    {
        var time = new FakeTimeProvider();
        var upstream = new HangingUpstream(HttpStatusCode.InternalServerError, hangFirst: true);
        using var engine = Make(upstream, time, o =>
        {
            o.Retry.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.Retry.MaxAttempts = 2;
        });
        var ends = new List<AttemptOutcomeKind>();
        var options = new SluiceSendOptions
        {
            AttemptEnded = kind =>
            {
                lock (ends)
                {
                    ends.Add(kind);
                }
            },
        };

        var result = await Driver(time, engine, upstream).RunUntilAsync(
            engine.SendAsync(await engine.CaptureAsync(Post()), options), TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(5));

        Assert.Equal(2, upstream.Calls);
        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        lock (ends)
        {
            Assert.Equal([AttemptOutcomeKind.Transient, AttemptOutcomeKind.Transient], ends);
        }

        result.Message?.Dispose();
    }

    [Fact]
    public async Task Send_AStreamThatArrivesAfterItsTryWasAbandoned_IsLetGoAtOnce_AndHoldsNoSlot()
    {
        const string Streamed = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":5}""";
        var time = new FakeTimeProvider();
        var late = new LateStreamUpstream();
        using var engine = Make(late, time, o =>
        {
            o.DefaultLimits.MaxConcurrency = 1;
            o.Retry.AttemptTimeout = TimeSpan.FromSeconds(5);
            o.Retry.MaxAttempts = 2;
        });
        var request = await engine.CaptureAsync(Post(Streamed));
        var partition = engine.Gate.GetPartition(request.Partition);
        var sending = engine.SendAsync(request);
        await late.FirstStarted.DefaultTimeout();

        // The first try is abandoned at its timeout; its stream comes afterwards, while the retry is in flight: it is let
        // go then, not kept until the job ends.
        var driver = new FakeTimeDriver(time);
        await driver.AdvanceAsync(TimeSpan.FromSeconds(5));
        await driver.RunUntilAsync(late.SecondStarted, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1));
        late.AnswerFirst();
        await TestWait.Eventually(() => late.FirstAnswer?.Disposed == true, "the late stream let go while the job still ran");
        Assert.False(sending.IsCompleted);
        late.AnswerSecond();
        var result = await sending.DefaultTimeout();

        Assert.True(result.IsSuccess);
        using (result.Message)
        {
            await result.Message!.Content.ReadAsStringAsync();
        }

        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    /// <summary>
    /// A driver whose clock moves only while every try in flight is inside the upstream: a try the engine is still
    /// reading (slow in real time on first use) holds the clock, so no deadline passes under it.
    /// </summary>
    private static FakeTimeDriver Driver(FakeTimeProvider time, SluiceEngine engine, HangingUpstream upstream) =>
        new(time, () => engine.Gate.Partitions.Sum(p => p.GetSnapshot().InFlight) == upstream.Inside);

    /// <summary>Answers the first try with <c>first</c> (a 429 asks for one second); hangs every later try until it is cancelled.</summary>
    private sealed class HangingUpstream(HttpStatusCode first, bool hangFirst = false) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;
        private int _inside;

        public List<TrackedResponse> Answers { get; } = [];

        public int Calls => Volatile.Read(ref _calls);

        /// <summary>Tries inside this upstream now: started and not yet answered.</summary>
        public int Inside => Volatile.Read(ref _inside);

        public Task SecondTryStarted => _second.Task;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _inside);
            try
            {
                return await AnswerAsync(cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }

        private async Task<HttpResponseMessage> AnswerAsync(CancellationToken cancellationToken)
        {
            int call = Interlocked.Increment(ref _calls);
            if (call == 1 && hangFirst)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            if (call == 1 || hangFirst)
            {
                var answer = new TrackedResponse(first, """{"error":{"message":"try again","type":"server_error"}}""");
                if (first == HttpStatusCode.TooManyRequests)
                {
                    answer.Headers.TryAddWithoutValidation("Retry-After", "1");
                }

                Answers.Add(answer);
                return answer;
            }

            _second.TrySetResult();
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>
    /// Holds the first try until told to answer, ignoring its cancellation (as a handler that does not watch its token
    /// would), then answers with a stream; the second try is held until told, then gets a stream too.
    /// </summary>
    private sealed class LateStreamUpstream : HttpMessageHandler
    {
        private const string Events = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}\n\ndata: [DONE]\n\n";
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _secondStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _answerSecond = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public Task FirstStarted => _started.Task;

        public Task SecondStarted => _secondStarted.Task;

        public TrackedResponse? FirstAnswer { get; private set; }

        public void AnswerFirst() => _answer.TrySetResult();

        public void AnswerSecond() => _answerSecond.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _started.TrySetResult();
                await _answer.Task;
                FirstAnswer = Stream();
                return FirstAnswer;
            }

            _secondStarted.TrySetResult();
            await _answerSecond.Task.WaitAsync(cancellationToken);
            return Stream();
        }

        private static TrackedResponse Stream()
        {
            var response = new TrackedResponse(HttpStatusCode.OK, Events);
            response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/event-stream");
            return response;
        }
    }

    private sealed class TrackedResponse : HttpResponseMessage
    {
        public TrackedResponse(HttpStatusCode status, string json)
            : base(status) => Content = new StringContent(json, Encoding.UTF8, "application/json");

        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
