using System.Text;
using Sluice.Providers;

namespace Sluice.Tests.Spend;

/// <summary>The cached part of a prompt is read from each provider's usage, so it can be priced at the cached rate.</summary>
public sealed class CachedUsageTests
{
    [Fact]
    public void AnAnthropicStream_ReportsItsCacheReads_FromMessageStart()
    {
        var usage = new UsageReader.StreamUsage();
        usage.Observe(Encoding.UTF8.GetBytes("""{"type":"message_start","message":{"usage":{"input_tokens":25,"cache_read_input_tokens":4000,"output_tokens":1}}}"""));
        usage.Observe(Encoding.UTF8.GetBytes("""{"type":"message_delta","usage":{"output_tokens":40}}"""));

        Assert.Equal(new TokenUsage(65, 25, 40) { CachedInput = 4000 }, usage.Usage);
    }

    [Fact]
    public void AnOpenAIChatAnswer_ReportsItsCachedPromptTokens_WithinItsInput()
    {
        var usage = UsageReader.Read("""{"usage":{"prompt_tokens":1200,"completion_tokens":5,"total_tokens":1205,"prompt_tokens_details":{"cached_tokens":1024}}}"""u8);

        Assert.Equal(new TokenUsage(1205, 1200, 5) { CachedInput = 1024 }, usage);
    }

    [Fact]
    public void AnAnswerWithoutCacheDetails_ReportsNone()
    {
        Assert.Null(UsageReader.Read("""{"usage":{"prompt_tokens":12,"completion_tokens":5}}"""u8).CachedInput);
    }
}
