using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class SseLineTests
{
    [Theory]
    [InlineData("data: {\"a\":1}", "{\"a\":1}")]
    [InlineData("data:{\"a\":1}", "{\"a\":1}")]
    [InlineData("data: [DONE]\r\n", "[DONE]")]
    [InlineData("data:  two spaces", " two spaces")]
    [InlineData("data:", "")]
    public void TryGetData_GivesThePayloadAfterTheColonAndOneSpace(string line, string expected)
    {
        Assert.True(SseLine.TryGetData(Utf8(line), out var payload));
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(payload));
    }

    [Theory]
    [InlineData("event: message_stop")]
    [InlineData(": comment")]
    [InlineData("database: x")]
    [InlineData("data")]
    [InlineData("")]
    public void TryGetData_OtherLines_AreNotData(string line)
    {
        Assert.False(SseLine.TryGetData(Utf8(line), out _));
    }

    [Theory]
    [InlineData("""{"type":"message_stop"}""", "message_stop")]
    [InlineData("""{"sequence_number":3,"type":"response.completed"}""", "response.completed")]
    [InlineData("""{"type":7}""", null)]
    [InlineData("""{"choices":[{"type":"x"}]}""", null)]
    [InlineData("[DONE]", null)]
    public void EventType_ReadsTheTopLevelType(string payload, string? expected)
    {
        Assert.Equal(expected, SseLine.EventType(Utf8(payload)));
    }

    [Theory]
    [InlineData("event: message_stop", "message_stop")]
    [InlineData("event:response.completed\r\n", "response.completed")]
    [InlineData("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":15}}", "message_delta")]
    [InlineData("data: [DONE]", null)]
    [InlineData(": ping", null)]
    public void EventName_ReadsEventLinesAndTheTypeOfDataLines(string line, string? expected)
    {
        Assert.Equal(expected, SseLine.EventName(Utf8(line)));
    }
}
