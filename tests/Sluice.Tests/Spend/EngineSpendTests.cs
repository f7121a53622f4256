using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Spend;
using Sluice.Tests.Dispatch.Support;
using Sluice.Tests.Engine;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Spend;

/// <summary>
/// Spend through the engine: every try reserves its worst case in every cap before it is sent and settles to its real
/// cost (a stream at its end); a try no cap has room for is never sent and ends its job SpendCapReached.
/// </summary>
public sealed class EngineSpendTests
{
    private const string StreamedChat = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":500}""";

    private static readonly ModelPrice Mini = Price("gpt-4o-mini");

    // What ScriptedTransport.Completion() reports: 7 prompt and 3 completion tokens.
    private static readonly decimal Answered = Mini.CostOf(7, 3);

    [Fact]
    public async Task APartitionsDailyCap_StopsExactlyBeforeTheCap_TheRefusedRequestUnsent_EveryEarlierOneAnswered()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        var time = new FakeTimeProvider();
        using var probe = Make(transport, time);
        decimal worst = probe.EstimateCost(await probe.CaptureAsync(Post())) ?? throw new InvalidOperationException("unpriced");

        // Room for the worst case after five answered requests, and not a millionth of a dollar more.
        decimal limit = (5 * Answered) + worst;
        using var engine = Make(transport, time, o => o.MaxSpendPerDay = limit);
        var ends = new List<SluiceResponse>();
        for (int i = 0; i < 8; i++)
        {
            ends.Add(await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout());
        }

        Assert.All(ends[..6], end => Assert.True(end.IsSuccess, end.Error));
        Assert.All(ends[..6], end => Assert.Equal(Answered, end.Cost));
        Assert.All(ends[6..], end => Assert.Equal((JobStatus.NotCompleted, JobEndReason.SpendCapReached, 0), (end.Status, end.Reason, end.Attempts)));
        Assert.Equal(6, transport.Calls);
        var refused = ends[6];
        Assert.Null(refused.Message);
        Assert.Equal(0m, refused.Cost);
        Assert.StartsWith($"MaxSpendPerDay of partition {refused.Request.Partition} reached: ", refused.Error, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"${6 * Answered:0.00####} spent and $0.00 reserved of ${limit:0.00####} today (resets {time.GetUtcNow().Date.AddDays(1):yyyy-MM-dd} 00:00 UTC)"), refused.Error, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"this request's worst case is ${worst:0.00####}"), refused.Error, StringComparison.Ordinal);
        foreach (var end in ends)
        {
            end.Message?.Dispose();
        }
    }

    [Fact]
    public async Task AFacesCap_StopsExactlyBeforeTheCap_AndIsSharedBySendAll()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider(), o => o.DefaultLimits.MaxConcurrency = 1);
        decimal worst = engine.EstimateCost(await engine.CaptureAsync(Post()))!.Value;
        var cap = new SpendCap((9 * Answered) + worst) { Name = "--max-spend" };

        var ends = new List<SluiceResponse>();
        await foreach (var end in engine.SendAllAsync(Requests(engine, 20), maxInProgress: 1, new SluiceSendOptions { SpendCaps = [cap] }))
        {
            ends.Add(end);
            end.Message?.Dispose();
        }

        Assert.Equal(10, ends.Count(end => end.IsSuccess));
        Assert.Equal(10, ends.Count(end => end.Reason == JobEndReason.SpendCapReached));
        Assert.Equal(10, transport.Calls);
        Assert.Equal(new SpendCapSnapshot(cap.Limit, 10 * Answered, 0, null), cap.GetSnapshot());
        Assert.StartsWith("--max-spend reached: ", ends.First(end => !end.IsSuccess).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATryRefusedByOneCap_ReleasesWhatTheOthersReserved()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());
        var roomy = new SpendCap(1m);
        var full = new SpendCap(0m);

        var end = await engine.SendAsync(await engine.CaptureAsync(Post()), new SluiceSendOptions { SpendCaps = [roomy, full] }).DefaultTimeout();

        Assert.Equal(JobEndReason.SpendCapReached, end.Reason);
        Assert.Equal(0, transport.Calls);
        Assert.Equal(new SpendCapSnapshot(1m, 0, 0, null), roomy.GetSnapshot());
        Assert.Equal(0, engine.Gate.GetPartition(end.Request.Partition).GetSnapshot().InFlight);
    }

    [Fact]
    public async Task EachRetriedTry_ReservesItsWorstCase_AFailureSettlesAtNothing_TheAnswerAtItsUsage()
    {
        var time = new FakeTimeProvider();
        var cap = new SpendCap(1m);
        var seen = new List<SpendCapSnapshot>();
        var transport = new ScriptedTransport((_, call) =>
        {
            seen.Add(cap.GetSnapshot());
            return call switch
            {
                1 => ScriptedTransport.Json(HttpStatusCode.InternalServerError, """{"error":{"message":"oops"}}"""),
                2 => ScriptedTransport.Json(HttpStatusCode.TooManyRequests, """{"error":{"message":"slow down","code":"rate_limit_exceeded"}}"""),
                _ => ScriptedTransport.Completion(),
            };
        });
        using var engine = Make(transport, time);
        var request = await engine.CaptureAsync(Post());
        decimal worst = engine.EstimateCost(request)!.Value;

        var end = await new FakeTimeDriver(time).RunUntilAsync(engine.SendAsync(request, new SluiceSendOptions { SpendCaps = [cap] }), TimeSpan.FromMilliseconds(250), TimeSpan.FromHours(1));

        Assert.True(end.IsSuccess, end.Error);
        Assert.Equal([new(1m, 0, worst, null), new(1m, 0, worst, null), new SpendCapSnapshot(1m, 0, worst, null)], seen);
        Assert.Equal(new SpendCapSnapshot(1m, Answered, 0, null), cap.GetSnapshot());
        Assert.Equal(Answered, end.Cost);
        end.Message!.Dispose();
    }

    [Fact]
    public async Task APermanentFailure_CostsNothing()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.BadRequest, """{"error":{"message":"bad"}}"""));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.MaxSpendPerDay = 1m);

        var end = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.Permanent, end.Reason);
        Assert.Equal(0m, end.Cost);
        end.Message!.Dispose();
    }

    [Fact]
    public async Task ATryThatNeverConnected_CostsNothing_OneCutOffKeepsItsWorstCase()
    {
        var never = new ScriptedTransport((_, _) => throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused"));
        var cut = new ScriptedTransport((_, _) => throw new TaskCanceledException("timed out"));
        var cap = new SpendCap(1m);
        using var refused = Make(never, new FakeTimeProvider(), o => o.Retry.MaxAttempts = 1);
        using var timedOut = Make(cut, new FakeTimeProvider(), o => o.Retry.MaxAttempts = 1);
        var options = new SluiceSendOptions { SpendCaps = [cap] };

        var first = await refused.SendAsync(await refused.CaptureAsync(Post()), options).DefaultTimeout();
        Assert.Equal((JobEndReason.AttemptsExhausted, 0m), (first.Reason, first.Cost));
        Assert.Equal(0m, cap.GetSnapshot().Settled);

        var request = await timedOut.CaptureAsync(Post());
        var second = await timedOut.SendAsync(request, options).DefaultTimeout();
        Assert.Equal(JobEndReason.AttemptsExhausted, second.Reason);
        Assert.Equal(timedOut.EstimateCost(request), second.Cost);
        Assert.Equal(new SpendCapSnapshot(1m, second.Cost!.Value, 0, null), cap.GetSnapshot());
    }

    [Fact]
    public async Task AStream_HoldsItsWorstCaseWhileRead_AndSettlesAtItsUsageWhenItEnds()
    {
        const string Events =
            "data: {\"choices\":[{\"delta\":{\"content\":\"o\"}}]}\n\n" +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n" +
            "data: [DONE]\n\n";
        var transport = new ScriptedTransport((_, _) => EventStream(Events));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.MaxSpendPerDay = 1m);
        var request = await engine.CaptureAsync(Post(StreamedChat));
        decimal worst = engine.EstimateCost(request)!.Value;
        var cap = new SpendCap(1m);

        var end = await engine.SendAsync(request, new SluiceSendOptions { SpendCaps = [cap] }).DefaultTimeout();

        Assert.True(end.IsSuccess);
        Assert.Equal(worst, end.Cost);
        Assert.Equal(worst, cap.GetSnapshot().Reserved);
        using (var message = end.Message!)
        {
            Assert.Equal(Events, await message.Content.ReadAsStringAsync());
        }

        decimal actual = Mini.CostOf(9, 2, cachedInputTokens: 4);
        Assert.Equal(actual, end.Cost);
        Assert.Equal(new SpendCapSnapshot(1m, actual, 0, null), cap.GetSnapshot());
    }

    [Fact]
    public async Task AStreamCutBeforeItsEnd_KeepsItsWorstCase()
    {
        var transport = new ScriptedTransport((_, _) => EventStream("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n"));
        using var engine = Make(transport, new FakeTimeProvider());
        var request = await engine.CaptureAsync(Post(StreamedChat));
        var cap = new SpendCap(1m);

        var end = await engine.SendAsync(request, new SluiceSendOptions { SpendCaps = [cap] }).DefaultTimeout();
        using (var message = end.Message!)
        {
            await using var body = await message.Content.ReadAsStreamAsync();
            await Assert.ThrowsAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        }

        Assert.Equal(engine.EstimateCost(request), end.Cost);
        Assert.Equal(new SpendCapSnapshot(1m, engine.EstimateCost(request)!.Value, 0, null), cap.GetSnapshot());
    }

    [Fact]
    public async Task AnUnpricedModel_UnderACap_IsRefusedUnsent_NamingTheModel_AndWithoutOne_IsSentAtAnUnknownCost_SaidOnce()
    {
        const string Unpriced = """{"model":"my-private-model","messages":[{"role":"user","content":"hello"}],"max_tokens":16}""";
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = new SluiceEngine(new SluiceHandlerOptions { AdaptiveConcurrency = false }, transport, new FakeTimeProvider(), loggers);

        var capped = await engine.SendAsync(await engine.CaptureAsync(Post(Unpriced)), new SluiceSendOptions { SpendCaps = [new SpendCap(100m)] }).DefaultTimeout();
        var free1 = await engine.SendAsync(await engine.CaptureAsync(Post(Unpriced))).DefaultTimeout();
        var free2 = await engine.SendAsync(await engine.CaptureAsync(Post(Unpriced))).DefaultTimeout();

        Assert.Equal(JobEndReason.SpendCapReached, capped.Reason);
        Assert.Contains("model 'my-private-model' has no price", capped.Error, StringComparison.Ordinal);
        Assert.Contains("prices file", capped.Error, StringComparison.Ordinal);
        Assert.Null(capped.Cost);
        Assert.Equal(2, transport.Calls);
        Assert.True(free1.IsSuccess && free2.IsSuccess);
        Assert.Null(free1.Cost);
        Assert.Null(engine.EstimateCost(free1.Request));
        var warnings = logs.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Warning && r.Message.Contains("my-private-model", StringComparison.Ordinal)).ToList();
        Assert.Single(warnings);
        free1.Message!.Dispose();
        free2.Message!.Dispose();
    }

    [Fact]
    public async Task ARequestWithoutABody_IsNotHeldByACap_AndOneWithABodyButNoModelIsRefused_NeitherWarned()
    {
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(builder => builder.AddProvider(logs));
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.OK, """{"object":"list","data":[]}"""));
        using var engine = new SluiceEngine(new SluiceHandlerOptions { AdaptiveConcurrency = false, MaxSpendPerDay = 1m }, transport, new FakeTimeProvider(), loggers);
        var list = new HttpRequestMessage(HttpMethod.Get, "https://api.example.com/v1/models");

        var listed = await engine.SendAsync(await engine.CaptureAsync(list)).DefaultTimeout();
        var modelless = await engine.SendAsync(await engine.CaptureAsync(Post("""{"input":"hello"}""", "https://api.example.com/v1/embeddings"))).DefaultTimeout();

        Assert.True(listed.IsSuccess, listed.Error);
        Assert.Null(listed.Cost);
        Assert.Equal(JobEndReason.SpendCapReached, modelless.Reason);
        Assert.Contains("names no model", modelless.Error, StringComparison.Ordinal);
        Assert.Equal(1, transport.Calls);
        Assert.DoesNotContain(logs.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
        listed.Message!.Dispose();
    }

    [Fact]
    public async Task AnAzureRequestWithoutAModel_IsPricedByItsDeploymentsName()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider(), o => o.Provider = ProviderKind.AzureOpenAI);
        var named = await engine.CaptureAsync(Post("""{"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""", "https://x.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"));
        var custom = await engine.CaptureAsync(Post("""{"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""", "https://x.openai.azure.com/openai/deployments/support-bot/chat/completions?api-version=2024-10-21"));

        Assert.Equal(Mini.CostOf(named.EstimatedInputTokens, 16), engine.EstimateCost(named));
        Assert.Null(engine.EstimateCost(custom));
    }

    [Fact]
    public async Task EstimateCost_PricesThePromptEstimateAndTheOutputCap_1024TokensWhenTheBodyStatesNone()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        var capped = await engine.CaptureAsync(Post());
        var open = await engine.CaptureAsync(Post("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}"""));

        Assert.Equal(16, capped.EstimatedOutputTokens);
        Assert.Equal(1024, open.EstimatedOutputTokens);
        Assert.Equal(Mini.CostOf(capped.EstimatedInputTokens, 16), engine.EstimateCost(capped));
        Assert.Equal(Mini.CostOf(open.EstimatedInputTokens, 1024), engine.EstimateCost(open));
    }

    [Fact]
    public async Task CostOf_PricesCachedInputAtTheCachedRate_ForOpenAIWithinTheInput_ForAnthropicBesideIt()
    {
        using var openai = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        using var anthropic = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider(), o => o.Provider = ProviderKind.Anthropic);
        var chat = await openai.CaptureAsync(Post());
        var message = await anthropic.CaptureAsync(Post("""{"model":"claude-sonnet-4-5-20250929","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}""", "https://api.anthropic.com/v1/messages"));

        Assert.Equal(Mini.CostOf(1000, 10, cachedInputTokens: 600), openai.CostOf(chat, new TokenUsage(1010, 1000, 10) { CachedInput = 600 }));
        Assert.Equal(Price("claude-sonnet-4-5", ProviderKind.Anthropic).CostOf(1600, 10, cachedInputTokens: 600), anthropic.CostOf(message, new TokenUsage(1010, 1000, 10) { CachedInput = 600 }));
        Assert.Null(openai.CostOf(chat, default));
    }

    [Fact]
    public void Options_RefuseANegativeDailyCap()
    {
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new SluiceEngine(new SluiceHandlerOptions { MaxSpendPerDay = -1m }));
        Assert.Contains("MaxSpendPerDay", error.Message, StringComparison.Ordinal);
    }

    private static ModelPrice Price(string model, ProviderKind provider = ProviderKind.OpenAI) =>
        PriceTable.Default.TryFind(provider, model, out var price) ? price : throw new InvalidOperationException(model);

    private static async IAsyncEnumerable<SluiceRequest> Requests(SluiceEngine engine, int count)
    {
        for (int i = 0; i < count; i++)
        {
            yield return await engine.CaptureAsync(Post());
        }
    }

    private static HttpResponseMessage EventStream(string events)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(events))) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return response;
    }
}
