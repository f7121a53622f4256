using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
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

        var driver = new FakeTimeDriver(time);
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

        var result = await new FakeTimeDriver(time).RunUntilAsync(
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
        var driver = new FakeTimeDriver(time);
        await Assert.ThrowsAsync<TaskCanceledException>(() => driver.RunUntilAsync(sending, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(5)));
        Assert.Equal(2, upstream.Calls);
    }

    /// <summary>Answers the first try with <c>first</c> (a 429 asks for one second); hangs every later try until it is cancelled.</summary>
    private sealed class HangingUpstream(HttpStatusCode first) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _second = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public List<TrackedResponse> Answers { get; } = [];

        public int Calls => Volatile.Read(ref _calls);

        public Task SecondTryStarted => _second.Task;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1)
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
