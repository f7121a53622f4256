using System.Buffers;
using System.Text;
using Sluice.Cli.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class UsageChunkFilterTests
{
    private const string Stream =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n" +
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n" +
        "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n" +
        "data: [DONE]\n\n";

    private static string Run(IEnumerable<string> chunks)
    {
        var filter = new UsageChunkFilter();
        var output = new ArrayBufferWriter<byte>();
        foreach (string chunk in chunks)
        {
            filter.Filter(Encoding.UTF8.GetBytes(chunk), output);
        }

        filter.Complete(output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static readonly string Expected = Stream.Replace(
        "data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}\n\n", "", StringComparison.Ordinal);

    [Fact]
    public void UsageOnlyEvent_IsRemoved_EverythingElseKept() => Assert.Equal(Expected, Run([Stream]));

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(40)]
    public void AnyChunking_GivesTheSameStream(int size) =>
        Assert.Equal(Expected, Run(Enumerable.Range(0, (Stream.Length + size - 1) / size).Select(i => Stream.Substring(i * size, Math.Min(size, Stream.Length - (i * size))))));

    [Fact]
    public void ContentEventThatMentionsEmptyChoices_IsKept()
    {
        const string Line = "data: {\"choices\":[{\"delta\":{\"content\":\"\\\"choices\\\":[]\"}}],\"usage\":null}\n\n";

        Assert.Equal(Line, Run([Line]));
    }
}
