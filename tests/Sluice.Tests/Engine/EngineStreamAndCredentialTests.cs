using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Sluice.Dispatch;
using Sluice.Tests.Dispatch.Support;
using static Sluice.Tests.Engine.EngineTestKit;

namespace Sluice.Tests.Engine;

/// <summary>Streams through the engine (the slot held until the body ends, usage settled from the stream, a cut stream an error) and a rejected credential refreshed once.</summary>
public sealed class EngineStreamAndCredentialTests
{
    private const string StreamedChat = """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hello"}],"max_tokens":500}""";

    [Fact]
    public async Task Stream_HoldsItsSlotUntilTheBodyEnds_AndSettlesWithTheUsageItReports()
    {
        const string Events =
            "data: {\"choices\":[{\"delta\":{\"content\":\"o\"}}]}\n\n" +
            "data: {\"choices\":[{\"delta\":{\"content\":\"k\"}}]}\n\n" +
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}\n\n" +
            "data: [DONE]\n\n";
        var transport = new ScriptedTransport((_, _) => EventStream(Events));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.Provider = Sluice.Providers.ProviderKind.OpenAICompatible);
        var request = await engine.CaptureAsync(Post(StreamedChat));
        var partition = engine.Gate.GetPartition(request.Partition);

        var result = await engine.SendAsync(request).DefaultTimeout();

        Assert.True(result.IsSuccess);
        Assert.Equal(1, partition.GetSnapshot().InFlight);
        using (var message = result.Message!)
        {
            Assert.Equal(Events, await message.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, partition.GetSnapshot().InFlight);
        Assert.Contains("\"include_usage\":true", Assert.Single(transport.Sent).Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stream_CutBeforeItsEnd_IsAnErrorToTheReader_AndStillFreesTheSlot()
    {
        var transport = new ScriptedTransport((_, _) => EventStream("data: {\"choices\":[{\"delta\":{\"content\":\"o\"}}]}\n\n"));
        using var engine = Make(transport, new FakeTimeProvider());
        var request = await engine.CaptureAsync(Post(StreamedChat));

        var result = await engine.SendAsync(request).DefaultTimeout();

        using (var message = result.Message!)
        {
            await using var body = await message.Content.ReadAsStreamAsync();
            await Assert.ThrowsAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        }

        Assert.Equal(0, engine.Gate.GetPartition(request.Partition).GetSnapshot().InFlight);
    }

    [Fact]
    public async Task AnthropicStream_WhoseUsageSumsPastTheLongLimit_StillFreesItsSlot_AndReadsToTheEnd()
    {
        const string AnthropicStreamed = """{"model":"claude-3-5-haiku-latest","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"hello"}]}""";
        const string Events =
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9223372036854775807}}}\n\n" +
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":9223372036854775807}}\n\n" +
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        var transport = new ScriptedTransport((_, _) => EventStream(Events));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.Provider = Sluice.Providers.ProviderKind.Anthropic);
        var request = await engine.CaptureAsync(Post(AnthropicStreamed, url: "https://api.anthropic.com/v1/messages"));
        var partition = engine.Gate.GetPartition(request.Partition);

        var result = await engine.SendAsync(request).DefaultTimeout();
        using (var message = result.Message!)
        {
            Assert.Equal(Events, await message.Content.ReadAsStringAsync());
        }

        Assert.Equal(0, partition.GetSnapshot().InFlight);
    }

    [Fact]
    public async Task RejectedCredential_IsRefreshedOnce_AndEveryLaterRequestCarriesTheNewOne()
    {
        var transport = new ScriptedTransport((request, _) => request.Headers.Authorization?.Parameter == "sk-new"
            ? ScriptedTransport.Completion()
            : ScriptedTransport.Json(HttpStatusCode.Unauthorized, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"""));
        int refreshes = 0;
        using var engine = Make(transport, new FakeTimeProvider(), o => o.RefreshCredentials = (message, _) =>
        {
            Interlocked.Increment(ref refreshes);
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sk-new");
            return ValueTask.FromResult(true);
        });

        var first = await engine.SendAsync(await engine.CaptureAsync(Post(key: "sk-old"))).DefaultTimeout();
        var second = await engine.SendAsync(await engine.CaptureAsync(Post(key: "sk-old"))).DefaultTimeout();

        Assert.True(first.IsSuccess, first.Error);
        Assert.True(second.IsSuccess, second.Error);
        Assert.Equal(1, refreshes);
        Assert.Equal(["Bearer sk-old", "Bearer sk-new", "Bearer sk-new"], transport.Sent.Select(s => s.Authorization));
        first.Message!.Dispose();
        second.Message!.Dispose();
    }

    [Fact]
    public async Task RejectedCredential_TheHookCannotReplace_StopsThePartition()
    {
        var transport = new ScriptedTransport((_, _) => ScriptedTransport.Json(HttpStatusCode.Unauthorized, """{"error":{"message":"Incorrect API key provided","code":"invalid_api_key"}}"""));
        using var engine = Make(transport, new FakeTimeProvider(), o => o.RefreshCredentials = (_, _) => ValueTask.FromResult(false));

        var result = await engine.SendAsync(await engine.CaptureAsync(Post())).DefaultTimeout();

        Assert.Equal(JobEndReason.AuthFailed, result.Reason);
        Assert.Equal(1, transport.Calls);
        Assert.NotNull(engine.Gate.GetPartition(result.Request.Partition).GetSnapshot().StopReason);
        result.Message!.Dispose();
    }

    private static HttpResponseMessage EventStream(string events)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(events))) };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return response;
    }
}
