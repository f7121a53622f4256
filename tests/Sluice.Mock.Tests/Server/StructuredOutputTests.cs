using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class StructuredOutputTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse("""
        {"type": "object", "additionalProperties": false, "required": ["label", "score", "urgent"],
         "properties": {"label": {"type": "string"}, "score": {"type": "number"}, "urgent": {"type": "boolean"}}}
        """).RootElement.Clone();

    [Fact]
    public async Task Chat_JsonSchema_AnswersSchemaShapedJson_WithTheReplysTokenCount()
    {
        await using var mock = await RunningMock.StartAsync();

        using var plain = await mock.SendAsync(RunningMock.Chat("Rate this"));
        using var response = await mock.SendAsync(RunningMock.Post("v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new object[] { new { role = "user", content = "Rate this" } },
            response_format = new { type = "json_schema", json_schema = new { name = "rating", schema = Schema, strict = true } },
        }));
        var body = await response.JsonAsync();

        AssertShaped(body.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!);
        Assert.Equal("stop", body.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(
            (await plain.JsonAsync()).GetProperty("usage").GetProperty("completion_tokens").GetInt32(),
            body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Chat_JsonObject_AnswersAnObjectWithAReply()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new object[] { new { role = "user", content = "Say hi in JSON" } },
            response_format = new { type = "json_object" },
        }));
        var content = (await response.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

        using var json = JsonDocument.Parse(content);
        Assert.Equal(JsonValueKind.String, json.RootElement.GetProperty("reply").ValueKind);
    }

    [Fact]
    public async Task ChatStream_JsonSchema_StreamsTheSameJson()
    {
        await using var mock = await RunningMock.StartAsync();
        object Body(bool stream) => new
        {
            model = "gpt-4o-mini",
            messages = new object[] { new { role = "user", content = "Rate this" } },
            response_format = new { type = "json_schema", json_schema = new { name = "rating", schema = Schema } },
            stream,
        };

        using var plain = await mock.SendAsync(RunningMock.Post("v1/chat/completions", Body(false)));
        using var streamed = await mock.SendAsync(RunningMock.Post("v1/chat/completions", Body(true)));
        var events = await streamed.EventsAsync();

        var text = string.Concat(events.Where(e => e.Data != "[DONE]")
            .Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var c) ? c.GetString() : ""));
        Assert.Equal((await plain.JsonAsync()).GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), text);
        AssertShaped(text);
    }

    [Fact]
    public async Task Responses_TextFormatJsonSchema_AnswersSchemaShapedJson()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/responses", new
        {
            model = "gpt-4o-mini",
            input = "Rate this",
            text = new { format = new { type = "json_schema", name = "rating", schema = Schema, strict = true } },
        }));
        var body = await response.JsonAsync();

        AssertShaped(body.GetProperty("output")[0].GetProperty("content")[0].GetProperty("text").GetString()!);
    }

    [Fact]
    public async Task Messages_ForcedTool_AnswersToolUse_WithSchemaShapedInput()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/messages", MessagesBody(stream: false)).WithAnthropicHeaders());
        var body = await response.JsonAsync();

        var block = Assert.Single(body.GetProperty("content").EnumerateArray());
        Assert.Equal("tool_use", block.GetProperty("type").GetString());
        Assert.Equal("rating", block.GetProperty("name").GetString());
        Assert.StartsWith("toolu_01", block.GetProperty("id").GetString(), StringComparison.Ordinal);
        AssertShaped(block.GetProperty("input").GetRawText());
        Assert.Equal("tool_use", body.GetProperty("stop_reason").GetString());
    }

    [Fact]
    public async Task MessagesStream_ForcedTool_StreamsInputJsonDeltas()
    {
        await using var mock = await RunningMock.StartAsync();

        using var plain = await mock.SendAsync(RunningMock.Post("v1/messages", MessagesBody(stream: false)).WithAnthropicHeaders());
        using var streamed = await mock.SendAsync(RunningMock.Post("v1/messages", MessagesBody(stream: true)).WithAnthropicHeaders());
        var data = (await streamed.EventsAsync()).Select(e => JsonDocument.Parse(e.Data).RootElement.Clone()).ToList();

        var start = data.Single(d => d.GetProperty("type").GetString() == "content_block_start").GetProperty("content_block");
        Assert.Equal("tool_use", start.GetProperty("type").GetString());
        Assert.Equal("rating", start.GetProperty("name").GetString());
        var deltas = data.Where(d => d.GetProperty("type").GetString() == "content_block_delta").Select(d => d.GetProperty("delta")).ToList();
        Assert.All(deltas, d => Assert.Equal("input_json_delta", d.GetProperty("type").GetString()));
        var json = string.Concat(deltas.Select(d => d.GetProperty("partial_json").GetString()));
        var expected = (await plain.JsonAsync()).GetProperty("content")[0].GetProperty("input").GetRawText();
        Assert.Equal(expected, json);
        AssertShaped(json);
        Assert.Equal("tool_use", data.Single(d => d.GetProperty("type").GetString() == "message_delta").GetProperty("delta").GetProperty("stop_reason").GetString());
    }

    private static object MessagesBody(bool stream) => new
    {
        model = "claude-sonnet-4-5",
        max_tokens = 200,
        messages = new object[] { new { role = "user", content = "Rate this" } },
        tools = new object[] { new { name = "rating", description = "Record it.", input_schema = Schema } },
        tool_choice = new { type = "tool", name = "rating" },
        stream,
    };

    private static void AssertShaped(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(["label", "score", "urgent"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(JsonValueKind.String, root.GetProperty("label").ValueKind);
        Assert.Equal(JsonValueKind.Number, root.GetProperty("score").ValueKind);
        Assert.Contains(root.GetProperty("urgent").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
    }
}
