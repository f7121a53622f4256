using CsCheck;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class StreamUsageTests
{
    private const string OpenAIStream = """
        data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}

        data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}

        data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1741569952,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_06737a9306","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}

        data: [DONE]

        """;

    private const string AnthropicStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

        event: message_stop
        data: {"type":"message_stop"}

        """;

    private const string ResponsesStream = """
        event: response.created
        data: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","usage":null}}

        event: response.output_text.delta
        data: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi"}

        event: response.completed
        data: {"type":"response.completed","sequence_number":9,"response":{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}}

        """;

    private static UsageReader.StreamUsage Follow(string stream, Action<long?>? afterEach = null)
    {
        var usage = new UsageReader.StreamUsage();
        foreach (var line in stream.Split('\n'))
        {
            if (SseLine.TryGetData(Utf8(line), out var payload))
            {
                usage.Observe(payload);
                afterEach?.Invoke(usage.Total);
            }
        }

        return usage;
    }

    [Fact]
    public void Observe_OpenAIStream_TakesTheFinalUsageChunk()
    {
        var seen = new List<long?>();

        var usage = Follow(OpenAIStream, seen.Add);

        Assert.Equal(21, usage.Total);
        Assert.Equal([null, null, null, 21, 21], seen);
    }

    [Fact]
    public void Observe_AnthropicStream_AddsInputFromMessageStartToOutputFromMessageDelta()
    {
        var seen = new List<long?>();

        var usage = Follow(AnthropicStream, seen.Add);

        Assert.Equal(25 + 15, usage.Total);
        Assert.Equal(26, seen[0]);   // message_start: 25 in, 1 out so far
    }

    [Fact]
    public void Usage_OfEachStream_SplitsInputFromOutput()
    {
        var openai = Follow(OpenAIStream);
        var anthropic = Follow(AnthropicStream);

        Assert.Equal(new TokenUsage(21, 9, 12) { CachedInput = 0 }, openai.Usage);
        Assert.Equal(anthropic.Total, anthropic.Usage.Total);
        Assert.Equal(25, anthropic.Usage.Input);
        Assert.Equal(anthropic.Total - 25, anthropic.Usage.Output);
    }

    [Fact]
    public void Observe_AnthropicDeltaWithInputTokens_UpdatesInputToo()
    {
        var usage = new UsageReader.StreamUsage();
        usage.Observe(Utf8("""{"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}"""));
        usage.Observe(Utf8("""{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":30,"cache_creation_input_tokens":10,"output_tokens":40}}"""));

        Assert.Equal(80, usage.Total);
    }

    [Fact]
    public void Observe_AnthropicCountsNearTheLongLimit_SaturateInsteadOfOverflowing()
    {
        var usage = new UsageReader.StreamUsage();
        usage.Observe(Utf8("""{"type":"message_start","message":{"usage":{"input_tokens":9223372036854775807,"cache_creation_input_tokens":9223372036854775807}}}"""));
        usage.Observe(Utf8("""{"type":"message_delta","usage":{"output_tokens":9223372036854775807}}"""));

        Assert.Equal(new TokenUsage(UsageReader.MaxTokens, UsageReader.MaxTokens, UsageReader.MaxTokens), usage.Usage);
    }

    [Theory]
    [InlineData("""{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}""")]
    [InlineData("""{"usage":{"input_tokens":9223372036854775000,"cache_creation_input_tokens":9223372036854775000,"output_tokens":5}}""")]
    [InlineData("""{"usage":{"total_tokens":9223372036854775807}}""")]
    public void Read_AnAbsurdCount_IsCappedAndNeverNegative(string body)
    {
        var usage = UsageReader.Read(Utf8(body));

        Assert.Equal(UsageReader.MaxTokens, usage.Total);
        Assert.True(usage.Input is null or (>= 0 and <= UsageReader.MaxTokens));
        Assert.True(usage.Output is null or (>= 0 and <= UsageReader.MaxTokens));
    }

    [Fact]
    public void Observe_ResponsesStream_TakesTheCompletedResponsesUsage()
    {
        Assert.Equal(123, Follow(ResponsesStream).Total);
    }

    [Fact]
    public void Observe_StreamWithoutUsage_StaysNull()
    {
        var usage = new UsageReader.StreamUsage();
        usage.Observe(Utf8("""{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}"""));
        usage.Observe(Utf8("[DONE]"));

        Assert.Null(usage.Total);
    }

    [Fact]
    public void Observe_AcceptsAWholeDataLineToo()
    {
        var usage = new UsageReader.StreamUsage();
        usage.Observe(Utf8("""data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""" + "\r\n"));

        Assert.Equal(21, usage.Total);
    }

    [Fact]
    public void Observe_AnyBytes_NeverThrowsNorGoesNegative()
    {
        AnyBytes.Array[1, 6].Sample(payloads =>
        {
            var usage = new UsageReader.StreamUsage();
            foreach (var payload in payloads)
            {
                usage.Observe(payload);
            }

            Assert.False(usage.Total < 0);
        }, iter: 5_000);
    }
}
