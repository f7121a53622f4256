using System.Text.Json;
using CsCheck;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class UsageReaderTests
{
    [Theory]
    [InlineData(ProviderBodies.OpenAIChatCompletion, 29L)]
    [InlineData(ProviderBodies.AnthropicMessage, 2598L)]
    [InlineData("""{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023,-0.0093]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}""", 8L)]
    [InlineData("""{"id":"resp_1","object":"response","status":"completed","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":0},"output_tokens":87,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}""", 123L)]
    [InlineData("""{"id":"resp_1","object":"response","usage":{"input_tokens":36,"output_tokens":87}}""", 123L)]
    [InlineData("""{"id":"cmpl-1","object":"text_completion","usage":{"prompt_tokens":5,"completion_tokens":7}}""", 12L)]
    [InlineData("""{"id":"msg_1","type":"message","usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":5000,"output_tokens":50}}""", 2150L)]
    [InlineData("""{"type":"response.completed","response":{"id":"resp_1","usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}}""", 7L)]
    public void ReadTotal_ReadsEachProvidersUsage(string body, long expected)
    {
        Assert.Equal(expected, UsageReader.ReadTotal(Utf8(body)));
    }

    [Theory]
    [InlineData(ProviderBodies.OpenAIChatCompletion, 29L, 19L, 10L, 0L)]
    [InlineData("""{"id":"msg_1","type":"message","usage":{"input_tokens":100,"cache_creation_input_tokens":2000,"cache_read_input_tokens":5000,"output_tokens":50}}""", 2150L, 2100L, 50L, 5000L)]
    [InlineData("""{"object":"list","usage":{"prompt_tokens":8,"total_tokens":8}}""", 8L, 8L, null, null)]
    [InlineData("""{"id":"resp_1","object":"response","usage":{"input_tokens":36,"input_tokens_details":{"cached_tokens":30},"output_tokens":87,"total_tokens":123}}""", 123L, 36L, 87L, 30L)]
    public void Read_GivesTheTotalAndEachPart(string body, long total, long? input, long? output, long? cachedInput)
    {
        Assert.Equal(new TokenUsage(total, input, output) { CachedInput = cachedInput }, UsageReader.Read(Utf8(body)));
    }

    [Theory]
    [InlineData("""{"id":"chatcmpl-1","choices":[]}""")]
    [InlineData("""{"usage":null}""")]
    [InlineData("""{"usage":{"total_tokens":"29"}}""")]
    [InlineData("""{"usage":{"total_tokens":-4}}""")]
    [InlineData("""{"usage":{"total_tokens":1.5}}""")]
    [InlineData("""{"usage":{}}""")]
    [InlineData("[1,2,3]")]
    [InlineData("""{"usage":{"total_tokens":29""")]
    [InlineData("")]
    public void ReadTotal_WhenNoUsableUsage_GivesNull(string body)
    {
        Assert.Null(UsageReader.ReadTotal(Utf8(body)));
    }

    [Fact]
    public void ReadTotal_AnyBytes_NeverThrowsNorGoesNegative()
    {
        AnyBytes.Sample(body => Assert.False(UsageReader.ReadTotal(body) < 0), iter: 20_000);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o","stream":true}""", true)]
    [InlineData("""{"model":"gpt-4o","stream":false}""", false)]
    [InlineData("""{"model":"gpt-4o","stream":"true"}""", false)]
    [InlineData("""{"model":"gpt-4o","options":{"stream":true}}""", false)]
    [InlineData("""{"model":"gpt-4o"}""", false)]
    [InlineData("garbage", false)]
    [InlineData("", false)]
    public void IsStreaming_IsTrueOnlyForATopLevelLiteralTrue(string body, bool expected)
    {
        Assert.Equal(expected, UsageReader.IsStreaming(Utf8(body)));
    }

    [Fact]
    public void EnsureStreamUsage_StreamingChatWithoutOptions_AppendsIncludeUsageLeavingTheRestByteForByte()
    {
        const string Body = "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"caf\u00e9 \\u00e9\"}]}\n";

        var result = UsageReader.EnsureStreamUsage("/v1/chat/completions", Utf8(Body));

        Assert.Equal(
            "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"caf\u00e9 \\u00e9\"}],\"stream_options\":{\"include_usage\":true}}\n",
            System.Text.Encoding.UTF8.GetString(result));
    }

    [Fact]
    public void EnsureStreamUsage_OnAzurePath_AppendsIncludeUsage()
    {
        var result = UsageReader.EnsureStreamUsage("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", Utf8("""{"stream":true,"messages":[]}"""));

        Assert.True(IncludeUsage(result));
    }

    [Fact]
    public void EnsureStreamUsage_StreamOptionsWithoutIncludeUsage_AddsItKeepingOtherOptions()
    {
        var body = Utf8("""{"model":"gpt-4o","stream":true,"stream_options":{"future_option":1},"messages":[{"role":"user","content":"<b>café</b>"}]}""");

        var result = UsageReader.EnsureStreamUsage("/v1/chat/completions", body);

        using var document = JsonDocument.Parse(result);
        var options = document.RootElement.GetProperty("stream_options");
        Assert.True(options.GetProperty("include_usage").GetBoolean());
        Assert.Equal(1, options.GetProperty("future_option").GetInt32());
        Assert.Equal("<b>café</b>", document.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public void EnsureStreamUsage_StreamOptionsNull_ReplacesIt()
    {
        var result = UsageReader.EnsureStreamUsage("/v1/chat/completions", Utf8("""{"stream":true,"stream_options":null}"""));

        Assert.True(IncludeUsage(result));
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":false}}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o","stream":false}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o"}""")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o","stream":true,""")]
    [InlineData("/v1/chat/completions", "not json")]
    [InlineData("/v1/responses", """{"model":"gpt-4o","stream":true}""")]
    [InlineData("/v1/messages", """{"model":"claude-sonnet-4-5","stream":true}""")]
    public void EnsureStreamUsage_WhenNothingToAdd_GivesTheSameArray(string path, string body)
    {
        var bytes = Utf8(body);

        Assert.Same(bytes, UsageReader.EnsureStreamUsage(path, bytes));
    }

    [Fact]
    public void EnsureStreamUsage_AnyBytes_NeverThrowsAndGivesJsonWhenItChangesTheBody()
    {
        var bodies = Gen.OneOf(AnyBytes, AnyBytes.Select(b => Utf8("{\"stream\":true," + System.Text.Encoding.UTF8.GetString(b))));
        bodies.Sample(body =>
        {
            var result = UsageReader.EnsureStreamUsage("/v1/chat/completions", body);

            if (!ReferenceEquals(result, body))
            {
                Assert.True(IncludeUsage(result));
            }
        }, iter: 10_000);
    }

    private static bool IncludeUsage(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("stream_options").GetProperty("include_usage").GetBoolean();
    }
}
