using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Engine;
using Sluice.Gate;
using Sluice.Http;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

public sealed class SluiceEngineTests
{
    [Fact]
    public void Capture_NamesThePartition_ScopeFingerprintAndModel_NeverTheKey()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());

        var byHost = engine.Capture(Post(), Encoding.UTF8.GetBytes(Chat));
        var named = engine.Capture(Post(), Encoding.UTF8.GetBytes(Chat), scope: "openai", modelGroup: "gpt-4o*");
        var otherKey = engine.Capture(Post(key: "sk-other"), Encoding.UTF8.GetBytes(Chat));
        var keyless = engine.Capture(Post(key: null), Encoding.UTF8.GetBytes(Chat));
        var bodiless = engine.Capture(new HttpRequestMessage(HttpMethod.Get, "https://api.example.com/v1/models"), body: null);

        Assert.Matches("^api\\.example\\.com\\|key:[0-9a-f]{12}\\|gpt-4o-mini$", byHost.Partition);
        Assert.Matches("^openai\\|key:[0-9a-f]{12}\\|gpt-4o\\*$", named.Partition);
        Assert.NotEqual(byHost.Partition, otherKey.Partition);
        Assert.Equal("api.example.com|key:none|gpt-4o-mini", keyless.Partition);
        Assert.Equal("api.example.com|key:none|default", bodiless.Partition);
        Assert.DoesNotContain("sk-test", byHost.Partition, StringComparison.Ordinal);
    }

    [Fact]
    public void Capture_ReadsTheBodyOnce_ForModelStreamEstimateAndUsage()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        const string Streamed = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""";
        const string StreamedWithChoice = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false},"messages":[]}""";

        var plain = engine.Capture(Post(), Encoding.UTF8.GetBytes(Chat));
        var streamed = engine.Capture(Post(Streamed), Encoding.UTF8.GetBytes(Streamed));
        var chosen = engine.Capture(Post(StreamedWithChoice), Encoding.UTF8.GetBytes(StreamedWithChoice));
        var notJson = engine.Capture(Post("not json at all"), Encoding.UTF8.GetBytes("not json at all"));

        Assert.Equal("gpt-4o-mini", plain.Model);
        Assert.False(plain.IsStreaming);
        Assert.False(plain.UsageAdded);
        Assert.Equal(16, plain.EstimatedOutputTokens);
        Assert.InRange(plain.EstimatedInputTokens, 1, 50);
        Assert.Equal(plain.EstimatedInputTokens + plain.EstimatedOutputTokens, plain.EstimatedTokens);
        Assert.True(streamed.IsStreaming);
        Assert.True(streamed.UsageAdded);
        Assert.Contains("\"include_usage\":true", Encoding.UTF8.GetString(streamed.Body.Span), StringComparison.Ordinal);
        Assert.True(chosen.IsStreaming);
        Assert.False(chosen.UsageAdded);
        Assert.Null(notJson.Model);
        Assert.Equal("not json at all", Encoding.UTF8.GetString(notJson.Body.Span));
    }

    [Fact]
    public void Capture_TakesTheIdGiven_ElseTheCustomIdHeader_ElseANumber()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider());
        var withHeader = Post();
        withHeader.Headers.TryAddWithoutValidation("X-Sluice-Custom-Id", "line-7");

        Assert.Equal("given", engine.Capture(Post(), [], id: "given").Id);
        Assert.Equal("line-7", engine.Capture(withHeader, []).Id);
        Assert.Matches("^request-\\d+$", engine.Capture(Post(), []).Id);
    }

    [Fact]
    public async Task Send_Success_CarriesTheUsage_AndSettlesTheReservation()
    {
        var time = new FakeTimeProvider();
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion(promptTokens: 7, completionTokens: 3));
        using var engine = Make(transport, time, o => o.DefaultLimits.TokensPerWindow = 10_000);
        var request = await engine.CaptureAsync(Post());
        double before = engine.Gate.GetPartition(request.Partition).GetSnapshot().TokensAvailable!.Value;

        var result = await engine.SendAsync(request).DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(1, result.Attempts);
        Assert.Equal(new Sluice.Providers.TokenUsage(10, 7, 3), result.Usage);
        Assert.Null(result.ProviderCode);
        using var message = Assert.IsType<HttpResponseMessage>(result.Message);
        Assert.Contains("\"total_tokens\":10", await message.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var snapshot = engine.Gate.GetPartition(request.Partition).GetSnapshot();
        Assert.Equal(0, snapshot.InFlight);
        // OpenAI counts a request's output cap against its token budget whatever it used, so the settled cost is the
        // reservation (prompt estimate plus max_tokens), not the 10 tokens reported; the clock has not moved.
        Assert.Equal(before - request.EstimatedTokens, snapshot.TokensAvailable!.Value, precision: 6);
    }

    [Fact]
    public async Task Send_PermanentError_IsTriedOnce_AndCarriesTheProvidersCode()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.NotFound, """{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}"""));
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(JobEndReason.Permanent, result.Reason);
        Assert.Equal("model_not_found", result.ProviderCode);
        Assert.Equal(HttpStatusCode.NotFound, result.Message!.StatusCode);
        Assert.Equal(1, transport.Calls);
        result.Message.Dispose();
    }

    [Theory]
    [InlineData("""{"error":{"code":"model_not_found","type":"invalid_request_error"}}""", "model_not_found")]
    [InlineData("""{"error":{"code":null,"type":"invalid_request_error"}}""", "invalid_request_error")]
    [InlineData("""{"type":"error","error":{"type":"not_found_error","message":"model: x"}}""", "not_found_error")]
    [InlineData("not json", null)]
    public async Task Send_TheProvidersCode_IsTheErrorsCodeElseItsType(string body, string? expected)
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.BadRequest, body));
        using var engine = Make(transport, new FakeTimeProvider());

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(expected, result.ProviderCode);
        result.Message!.Dispose();
    }

    [Fact]
    public async Task Send_RejectedKey_StopsThePartition_AndLaterCallersGetTheProvidersOwnAnswer()
    {
        const string Rejected = """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}""";
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.Unauthorized, Rejected));
        using var engine = Make(transport, new FakeTimeProvider());

        var first = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();
        var second = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.AuthFailed, first.Reason);
        Assert.Equal(JobEndReason.PartitionStopped, second.Reason);
        Assert.Equal(HttpStatusCode.Unauthorized, second.Message!.StatusCode);
        Assert.Equal(Rejected, await second.Message.Content.ReadAsStringAsync());
        Assert.Null(second.ProviderCode);
        Assert.Equal(1, transport.Calls);
        first.Message!.Dispose();
        second.Message.Dispose();
    }

    [Fact]
    public async Task Send_RetriesATransientFailure_ReportsEachTry_AndLetsEveryEarlierAnswerGo()
    {
        var time = new FakeTimeProvider();
        var answers = new List<TrackedResponse>();
        var transport = new ScriptedTransport((_, call) =>
        {
            var response = new TrackedResponse(call < 3 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK, call < 3 ? """{"error":{"message":"boom"}}""" : """{"usage":{"total_tokens":1}}""");
            lock (answers)
            {
                answers.Add(response);
            }

            return response;
        });
        using var engine = Make(transport, time);
        var starts = 0;
        var ends = new List<AttemptOutcomeKind>();
        var options = new SluiceSendOptions
        {
            AttemptStarting = () => Interlocked.Increment(ref starts),
            AttemptEnded = kind =>
            {
                lock (ends)
                {
                    ends.Add(kind);
                }
            },
        };

        var result = await new FakeTimeDriver(time).RunUntilAsync(engine.SendAsync(await engine.CaptureAsync(Post()), options), TimeSpan.FromMilliseconds(250), TimeSpan.FromHours(1));

        Assert.True(result.IsSuccess);
        Assert.Equal(3, result.Attempts);
        Assert.Equal(3, starts);
        Assert.Equal([AttemptOutcomeKind.Transient, AttemptOutcomeKind.Transient, AttemptOutcomeKind.Success], ends);
        Assert.Equal(3, answers.Count);
        Assert.True(answers[0].Disposed && answers[1].Disposed, "an earlier try's answer was kept");
        Assert.False(answers[2].Disposed, "the final answer was let go before the caller got it");
        result.Message!.Dispose();
    }

    [Fact]
    public async Task Send_GoesThroughTheFacesTransport_WhenOneIsGiven()
    {
        var own = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        var face = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(own, new FakeTimeProvider());
        using var invoker = new HttpMessageInvoker(face);

        var result = await engine.SendAsync(await engine.CaptureAsync(Post()), new SluiceSendOptions { Send = invoker.SendAsync }).DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(0, own.Calls);
        Assert.Equal(1, face.Calls);
        result.Message!.Dispose();
    }

    [Fact]
    public async Task SendAll_EveryRequestEndsExactlyOnce_AndNoMoreThanTheBoundIsTakenAtOnce()
    {
        const int Count = 60;
        const int Bound = 5;
        // Every 7th line is refused for good, so endings of both kinds interleave; nothing waits on the clock.
        var transport = new ScriptedTransport((request, _) => int.Parse(request.Headers.GetValues("X-Line").Single(), System.Globalization.CultureInfo.InvariantCulture) % 7 == 0
            ? ScriptedTransport.Json(HttpStatusCode.NotFound, """{"error":{"code":"model_not_found"}}""")
            : ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());
        int taken = 0, ended = 0, mostHeld = 0;

        async IAsyncEnumerable<SluiceRequest> Requests()
        {
            for (int i = 0; i < Count; i++)
            {
                InterlockedMax(ref mostHeld, Interlocked.Increment(ref taken) - Volatile.Read(ref ended));
                var message = Post();
                message.Headers.Add("X-Line", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                yield return engine.Capture(message, Encoding.UTF8.GetBytes(Chat), id: $"line-{i}");
                await Task.Yield();
            }
        }

        var endings = new List<(string Id, JobStatus Status)>();
        await foreach (var result in engine.SendAllAsync(Requests(), Bound).WithCancellation(CancellationToken.None))
        {
            Interlocked.Increment(ref ended);
            endings.Add((result.Request.Id, result.Status));
            result.Message?.Dispose();
        }

        var expected = Enumerable.Range(0, Count).Select(i => ($"line-{i}", i % 7 == 0 ? JobStatus.Failed : JobStatus.Succeeded));
        Assert.Equal(expected.Order(), endings.Order());
        Assert.Equal(Count, transport.Calls);
        Assert.InRange(mostHeld, 1, Bound + 1);
    }

    [Fact]
    public void LimitsFor_AModelGroupsPartition_IsItsOwn_ElseTheDefault()
    {
        using var engine = Make(new ScriptedTransport((_, _) => ScriptedTransport.Completion()), new FakeTimeProvider(), o =>
        {
            o.DefaultLimits.RequestsPerWindow = 500;
            o.Partitions["gpt-4o-mini"] = new PartitionLimits { RequestsPerWindow = 60 };
        });

        Assert.Equal(60, engine.LimitsFor(engine.Capture(Post(), Encoding.UTF8.GetBytes(Chat)).Partition).RequestsPerWindow);
        Assert.Equal(500, engine.LimitsFor("api.example.com|key:none|gpt-4.1").RequestsPerWindow);
    }

    [Fact]
    public async Task Handler_OverAnEngine_SharesItsPartitions_WithEveryOtherFace()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Completion());
        using var engine = Make(transport, new FakeTimeProvider());
        using var client = new HttpClient(new SluiceHandler(engine) { InnerHandler = transport });

        using var answer = await client.SendAsync(Post()).DefaultTimeout();
        var direct = engine.Capture(Post(), Encoding.UTF8.GetBytes(Chat));

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(direct.Partition, Assert.Single(engine.Gate.Partitions).Key);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
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
