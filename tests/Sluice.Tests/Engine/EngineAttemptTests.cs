using System.Net;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Providers;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>
/// What one try comes to in the engine: how a failure to connect, a timeout, a cut body and each status are told
/// apart, which of them tell the adaptive limit the upstream is overloaded, and what a success settles.
/// </summary>
public sealed class EngineAttemptTests
{
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, true)]
    [InlineData(HttpStatusCode.GatewayTimeout, true)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    [InlineData(HttpStatusCode.BadGateway, false)]
    public async Task ATransientStatus_ShrinksTheAdaptiveLimit_OnlyWhenItSaysTheUpstreamIsOverloaded(HttpStatusCode status, bool overloaded)
    {
        var (result, before, after) = await SendOnceAdaptiveAsync((_, _) => ScriptedTransport.Json(status, """{"error":{"message":"busy"}}"""));

        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Equal(status, result.Message!.StatusCode);
        if (overloaded)
        {
            Assert.True(after < before, $"limit {before} -> {after}");
        }
        else
        {
            Assert.Equal(before, after);
        }

        result.Message.Dispose();
    }

    [Fact]
    public async Task AFailureToConnect_IsTransient_NotOverload_AndSaysSo()
    {
        var (result, before, after) = await SendOnceAdaptiveAsync((_, _) => throw new HttpRequestException("Connection refused"));

        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Null(result.Message);
        Assert.StartsWith("connection failed: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("Connection refused", result.Error, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(result.Exception);
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task ASendThatTimesOut_WhileTheCallerWaits_IsOverload_NotACancellation()
    {
        var (result, before, after) = await SendOnceAdaptiveAsync((_, _) => throw new TaskCanceledException("timed out"));

        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal("the request timed out", result.Error);
        Assert.True(after < before, $"limit {before} -> {after}");
    }

    [Fact]
    public async Task ABodyCutOff_IsTransient_AndTheCutAnswerIsLetGo()
    {
        var cut = new List<HttpResponseMessage>();
        var (result, before, after) = await SendOnceAdaptiveAsync((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new FailingContent(new IOException("reset by peer")) };
            cut.Add(response);
            return response;
        });

        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Null(result.Message);
        Assert.StartsWith("the response was cut: ", result.Error, StringComparison.Ordinal);
        // HttpContent wraps the stream's IOException ("Error while copying content to a stream").
        Assert.Equal("reset by peer", Assert.IsType<IOException>(result.Exception?.InnerException).Message);
        Assert.Equal(before, after);
        var response = Assert.Single(cut);
        Assert.Throws<ObjectDisposedException>(() => response.Content.ReadAsStream());
    }

    [Fact]
    public async Task ABodyThatTimesOut_IsOverload_AndTheAnswerIsLetGo()
    {
        var timedOut = new List<HttpResponseMessage>();
        var (result, before, after) = await SendOnceAdaptiveAsync((_, _) =>
            {
                var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new FailingContent(new TaskCanceledException("body timed out")) };
                timedOut.Add(response);
                return response;
            });

        Assert.Throws<ObjectDisposedException>(() => Assert.Single(timedOut).Content.ReadAsStream());
        Assert.Equal(JobEndReason.AttemptsExhausted, result.Reason);
        Assert.Null(result.Message);
        Assert.Equal("the response timed out", result.Error);
        Assert.True(after < before, $"limit {before} -> {after}");
    }

    [Fact]
    public async Task ACallersCancellation_IsNeverMistakenForATimeout()
    {
        using var cancel = new CancellationTokenSource();
        var transport = new ScriptedTransport((_, _) =>
        {
            cancel.Cancel();
            throw new TaskCanceledException("the caller gave up", null, cancel.Token);
        });
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post()), cancellationToken: cancel.Token).DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Equal(1, transport.Calls);
    }

    [Fact]
    public async Task DayHeaders_StateTheDayBudgets()
    {
        var transport = new ScriptedTransport((_, _) =>
        {
            var response = ScriptedTransport.Completion();
            foreach (var (name, value) in new[]
            {
                ("x-ratelimit-limit-requests-day", "14400"), ("x-ratelimit-remaining-requests-day", "14000"), ("x-ratelimit-reset-requests-day", "3600"),
                ("x-ratelimit-limit-tokens-day", "1000000"), ("x-ratelimit-remaining-tokens-day", "999000"), ("x-ratelimit-reset-tokens-day", "3600"),
            })
            {
                response.Headers.TryAddWithoutValidation(name, value);
            }

            return response;
        });
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        result.Message!.Dispose();
        var budgets = engine.Gate.GetPartition(result.Request.Partition).GetSnapshot().Budgets;

        Assert.Contains(budgets, b => b.Dimension == BudgetDimension.RequestsPerDay && b.Limit == 14_400 && b.Source == BudgetSource.Headers);
        Assert.Contains(budgets, b => b.Dimension == BudgetDimension.TokensPerDay && b.Limit == 1_000_000 && b.Source == BudgetSource.Headers);
        Assert.DoesNotContain(budgets, b => b.Dimension is BudgetDimension.Requests or BudgetDimension.Tokens && b.Source == BudgetSource.Headers);
    }

    [Fact]
    public async Task AnAnswerThatUsedMoreThanItReserved_SettlesEachDimensionAtItsUsage()
    {
        // Output reserved at max_tokens (64) but reported at 500: the output budget is charged 500, the input budget
        // the larger of its estimate and the 40 reported.
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(
            HttpStatusCode.OK, """{"type":"message","content":[{"type":"text","text":"ok"}],"usage":{"input_tokens":40,"output_tokens":500}}"""));
        using var engine = Make(transport, new FakeTimeProvider(), o =>
        {
            o.Provider = ProviderKind.Anthropic;
            o.DefaultLimits.InputTokensPerWindow = 100_000;
            o.DefaultLimits.OutputTokensPerWindow = 100_000;
        });
        const string Message = """{"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}""";
        var request = await engine.CaptureAsync(Post(Message, "https://api.anthropic.com/v1/messages"));
        var partition = engine.Gate.GetPartition(request.Partition);
        double Available(BudgetDimension dimension) => partition.GetSnapshot().Budgets.Single(b => b.Dimension == dimension).Available;
        double input = Available(BudgetDimension.InputTokens), output = Available(BudgetDimension.OutputTokens);

        var result = await engine.SendAsync(request).DefaultTimeout();
        result.Message!.Dispose();

        // The fake clock has not moved, so nothing refilled: what left each budget is what was settled.
        Assert.True(result.IsSuccess);
        Assert.Equal(new TokenUsage(540, 40, 500), result.Usage);
        Assert.Equal(output - 500, Available(BudgetDimension.OutputTokens), precision: 6);
        Assert.Equal(input - Math.Max(40, request.EstimatedInputTokens), Available(BudgetDimension.InputTokens), precision: 6);
    }

    [Fact]
    public async Task AFailedAnswer_SettlesNothing_AndCarriesNoUsage()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(
            HttpStatusCode.BadRequest, """{"error":{"message":"bad","type":"invalid_request_error"},"usage":{"prompt_tokens":900,"completion_tokens":900,"total_tokens":1800}}"""));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.DefaultLimits.TokensPerWindow = 100_000);
        var request = await engine.CaptureAsync(Post());
        double before = engine.Gate.GetPartition(request.Partition).GetSnapshot().TokensAvailable!.Value;

        var result = await engine.SendAsync(request).DefaultTimeout();
        result.Message!.Dispose();

        Assert.Equal(JobEndReason.Permanent, result.Reason);
        Assert.Equal(default, result.Usage);
        // The reservation stands (OpenAI charges a refused request nothing, but Sluice cannot know it was refused
        // before it was counted): never the 1,800 the body claims.
        Assert.Equal(before - request.EstimatedTokens, engine.Gate.GetPartition(request.Partition).GetSnapshot().TokensAvailable!.Value, precision: 6);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.MultipleChoices)]
    public async Task AStreamedRequest_AnsweredWithAnythingBut2xx_IsReadWhole_AndHoldsNoSlot(HttpStatusCode status)
    {
        const string Streamed = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""";
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(status, """{"error":{"message":"no","type":"invalid_request_error"}}"""));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.Retry.MaxAttempts = 1);
        var request = await engine.CaptureAsync(Post(Streamed));

        var result = await engine.SendAsync(request).DefaultTimeout();

        // The answer was classified as what it is, not passed through as a stream, and its slot is already free.
        Assert.False(result.IsSuccess);
        Assert.Equal(0, engine.Gate.GetPartition(request.Partition).GetSnapshot().InFlight);
        Assert.Contains("\"no\"", await result.Message!.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        result.Message.Dispose();
    }

    [Fact]
    public async Task ABodyOfUnknownLength_IsRebuffered_AndStatesItsLength()
    {
        var transport = new ScriptedTransport((_, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream("""{"usage":{"total_tokens":1}}"""u8.ToArray())) };
            response.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            return response;
        });
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        using var message = result.Message!;
        Assert.IsType<ByteArrayContent>(message.Content);
        Assert.Equal(28, message.Content.Headers.ContentLength);
        Assert.Equal("application/json", message.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ACallerCancellingWhileTheBodyArrives_EndsCancelled_AndTheAnswerIsLetGo()
    {
        using var cancel = new CancellationTokenSource();
        var answers = new List<HttpResponseMessage>();
        var transport = new ScriptedTransport((_, _) =>
        {
            cancel.Cancel();
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new FailingContent(new OperationCanceledException(cancel.Token)) };
            answers.Add(response);
            return response;
        });
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post()), cancellationToken: cancel.Token).DefaultTimeout();

        Assert.Equal(JobEndReason.Canceled, result.Reason);
        Assert.Null(result.Message);
        Assert.Throws<ObjectDisposedException>(() => Assert.Single(answers).Content.ReadAsStream());
    }

    [Fact]
    public async Task ARejectedKey_IsRefreshedAtMostOncePerTry_AndTheRejectedAnswerIsLetGo()
    {
        // The upstream rejects every key and the hook always has another: one refresh per try, never a loop.
        var answers = new List<HttpResponseMessage>();
        var transport = new ScriptedTransport((_, _) =>
        {
            var rejected = ScriptedTransport.Json(HttpStatusCode.Unauthorized, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}""");
            answers.Add(rejected);
            return rejected;
        });
        int keys = 0;
        using var engine = Make(transport, new FakeTimeProvider(), o => o.RefreshCredentials = (message, _) =>
        {
            message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", $"sk-{Interlocked.Increment(ref keys)}");
            return ValueTask.FromResult(true);
        });

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.AuthFailed, result.Reason);
        Assert.Equal(2, transport.Calls);
        Assert.Equal(1, keys);
        Assert.Throws<ObjectDisposedException>(() => answers[0].Content.ReadAsStream());
        Assert.Same(answers[1], result.Message);
        result.Message!.Dispose();
    }

    [Fact]
    public async Task AnAnthropicPartition_OpensToMoreThanOneRequest_OnceTheFirstAnswersHeadersAreRead()
    {
        // Calls after the first wait until two of them are in flight at once: only a partition that has stopped holding
        // back after the first answer lets that happen.
        var bothInFlight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int waiting = 0;
        var transport = new AsyncTransport(async call =>
        {
            if (call > 1 && Interlocked.Increment(ref waiting) >= 2)
            {
                bothInFlight.TrySetResult();
            }

            if (call > 1)
            {
                await bothInFlight.Task.DefaultTimeout();
            }

            return ScriptedTransport.Json(HttpStatusCode.OK, """{"type":"message","content":[],"usage":{"input_tokens":1,"output_tokens":1}}""");
        });
        using var engine = Make(transport, new FakeTimeProvider(), o => o.Provider = ProviderKind.Anthropic);
        const string Message = """{"model":"claude-sonnet-4-5","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}""";

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(Message, "https://api.anthropic.com/v1/messages"))).DefaultTimeout();
        var later = await Task.WhenAll(
            engine.SendAsync(await engine.CaptureAsync(Post(Message, "https://api.anthropic.com/v1/messages"))),
            engine.SendAsync(await engine.CaptureAsync(Post(Message, "https://api.anthropic.com/v1/messages")))).DefaultTimeout();

        Assert.True(first.IsSuccess);
        Assert.All(later, r => Assert.True(r.IsSuccess, r.Error));
        foreach (var result in later.Append(first))
        {
            result.Message!.Dispose();
        }
    }

    /// <summary>An upstream that answers each call asynchronously, by its number.</summary>
    private sealed class AsyncTransport(Func<int, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        private int _calls;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await answer(Interlocked.Increment(ref _calls));
            response.RequestMessage = request;
            return response;
        }
    }

    /// <summary>Sends one request, tried once, with adaptive concurrency on; the partition's limit before and after.</summary>
    private static async Task<(SluiceResponse Result, int Before, int After)> SendOnceAdaptiveAsync(Func<HttpRequestMessage, int, HttpResponseMessage> answer)
    {
        var transport = new ScriptedTransport(answer);
        using var engine = Make(transport, new FakeTimeProvider(), o =>
        {
            o.AdaptiveConcurrency = true;
            o.Retry.MaxAttempts = 1;
        });
        var request = await engine.CaptureAsync(Post());
        var partition = engine.Gate.GetPartition(request.Partition);
        int before = partition.GetSnapshot().ConcurrencyLimit;

        var result = await engine.SendAsync(request).DefaultTimeout();

        Assert.Equal(1, transport.Calls);
        return (result, before, partition.GetSnapshot().ConcurrencyLimit);
    }

    /// <summary>A body that fails when read, as a connection reset or a read timeout does.</summary>
    private sealed class FailingContent(Exception failure) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => Task.FromException(failure);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) => throw failure;

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromException<Stream>(failure);
    }
}
