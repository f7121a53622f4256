using System.Text;
using Sluice.Cli.Run;
using Sluice.Redis.Batch;

namespace Sluice.Cli.Tests.Run;

/// <summary>A batch file's request as it travels through Redis and back: the same address, body and id.</summary>
public sealed class SharedBatchLinesTests
{
    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4o-mini","messages":[{"role":"user","content":"h\u00e9llo \"quoted\" \\ \n"}]}""")]
    [InlineData("/v1/embeddings?x=1", """{"input":["a","b"],"model":"m","nested":{"deep":[1,2.5,null,true]}}""")]
    [InlineData("/chat/completions", "{}")]
    public void Payload_ThenRequest_GivesBackTheLine(string url, string body)
    {
        var line = new RequestLine(17, "id with \"quotes\" and ünïcode", url, Encoding.UTF8.GetBytes(body));

        var back = SharedBatchLines.Request(new RedisBatchLine("5-0", line.CustomId, line.LineNumber, SharedBatchLines.Payload(line)));

        Assert.Equal(line.LineNumber, back.LineNumber);
        Assert.Equal(line.CustomId, back.CustomId);
        Assert.Equal(url, back.Url);
        Assert.Equal(body, Encoding.UTF8.GetString(back.Body));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"url":"/v1/chat/completions"}""")]
    [InlineData("""{"url":5,"body":{}}""")]
    [InlineData("""{"url":"/v1/x","body":[]}""")]
    public void Request_FromAPayloadSluiceDidNotWrite_IsRefusedNamingTheLine(string payload)
    {
        var failure = Assert.Throws<InvalidDataException>(() => SharedBatchLines.Request(new RedisBatchLine("9-0", "post-9", 9, payload)));

        Assert.Contains("9-0 (post-9)", failure.Message, StringComparison.Ordinal);
    }
}
