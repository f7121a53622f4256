using System.Buffers;
using System.Text.Json;
using Sluice.Cli.Data;

namespace Sluice.Cli.Tests.Data;

public sealed class RequestLineBuilderTests
{
    private static readonly OutputSchema Schema = new("summary", JsonDocument.Parse("""{"type":"object","properties":{"title":{"type":"string"}},"required":["title"]}""").RootElement);

    private static JsonElement Line(RequestShape shape, string prompt = "Hi \"you\"\n")
    {
        var buffer = new ArrayBufferWriter<byte>();
        RequestLineBuilder.Write(buffer, "id-1", prompt, shape);
        Assert.DoesNotContain((byte)'\n', buffer.WrittenSpan.ToArray());
        return JsonDocument.Parse(buffer.WrittenMemory).RootElement.Clone();
    }

    [Fact]
    public void Chat_SystemAndUserMessages_MaxTokens()
    {
        var line = Line(new RequestShape(BodyFormat.Chat, "gpt-4o-mini", "Be brief.", 50, null));

        Assert.Equal("id-1", line.GetProperty("custom_id").GetString());
        Assert.Equal("POST", line.GetProperty("method").GetString());
        Assert.Equal("/v1/chat/completions", line.GetProperty("url").GetString());
        var body = line.GetProperty("body");
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal(50, body.GetProperty("max_tokens").GetInt32());
        var messages = body.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Hi \"you\"\n", messages[1].GetProperty("content").GetString());
        Assert.False(body.TryGetProperty("response_format", out _));
    }

    [Fact]
    public void Chat_Schema_IsJsonSchemaResponseFormat_Strict()
    {
        var format = Line(new RequestShape(BodyFormat.Chat, "m", null, null, Schema)).GetProperty("body").GetProperty("response_format");

        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("summary", format.GetProperty("json_schema").GetProperty("name").GetString());
        Assert.True(format.GetProperty("json_schema").GetProperty("strict").GetBoolean());
        Assert.Equal("object", format.GetProperty("json_schema").GetProperty("schema").GetProperty("type").GetString());
    }

    [Fact]
    public void Responses_InputInstructionsAndTextFormat()
    {
        var line = Line(new RequestShape(BodyFormat.Responses, "m", "Be brief.", 30, Schema));
        var body = line.GetProperty("body");

        Assert.Equal("/v1/responses", line.GetProperty("url").GetString());
        Assert.Equal("Hi \"you\"\n", body.GetProperty("input").GetString());
        Assert.Equal("Be brief.", body.GetProperty("instructions").GetString());
        Assert.Equal(30, body.GetProperty("max_output_tokens").GetInt32());
        var format = body.GetProperty("text").GetProperty("format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        Assert.Equal("summary", format.GetProperty("name").GetString());
        Assert.True(format.TryGetProperty("schema", out _));
    }

    [Fact]
    public void Anthropic_DefaultMaxTokens_SystemField_NoSystemMessage()
    {
        var line = Line(new RequestShape(BodyFormat.Anthropic, "claude-haiku-4-5", "Be brief.", null, null));
        var body = line.GetProperty("body");

        Assert.Equal("/v1/messages", line.GetProperty("url").GetString());
        Assert.Equal(RequestShape.AnthropicDefaultMaxTokens, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal("Be brief.", body.GetProperty("system").GetString());
        Assert.Equal("user", Assert.Single(body.GetProperty("messages").EnumerateArray()).GetProperty("role").GetString());
        Assert.False(body.TryGetProperty("tools", out _));
    }

    [Fact]
    public void Anthropic_Schema_IsAForcedTool()
    {
        var body = Line(new RequestShape(BodyFormat.Anthropic, "m", null, 200, Schema)).GetProperty("body");

        var tool = Assert.Single(body.GetProperty("tools").EnumerateArray());
        Assert.Equal("summary", tool.GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("input_schema").GetProperty("type").GetString());
        Assert.Equal("tool", body.GetProperty("tool_choice").GetProperty("type").GetString());
        Assert.Equal("summary", body.GetProperty("tool_choice").GetProperty("name").GetString());
        Assert.Equal(200, body.GetProperty("max_tokens").GetInt32());
    }

    [Fact]
    public void Lines_PassRunsOwnCheck()
    {
        foreach (var format in Enum.GetValues<BodyFormat>())
        {
            var buffer = new ArrayBufferWriter<byte>();
            RequestLineBuilder.Write(buffer, "id-1", "x", new RequestShape(format, "m", null, null, Schema));
            Assert.Null(Cli.Run.RequestLineCheck.Check(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), out string? id));
            Assert.Equal("id-1", id);
        }
    }

    [Fact]
    public void Schema_NameFromTitleOrFile_Cleaned()
    {
        using var files = new DataTestFiles();
        string titled = files.Write("s.json", """{"title":"Post summary!","type":"object"}""");
        string untitled = files.Write("my schema.json", """{"type":"object"}""");
        string notObject = files.Write("bad.json", "[1]");

        Assert.Equal("Post_summary", OutputSchema.Load(titled, out _)!.Name);
        Assert.Equal("my_schema", OutputSchema.Load(untitled, out _)!.Name);
        Assert.Null(OutputSchema.Load(notObject, out string? problem));
        Assert.Contains("JSON schema object", problem, StringComparison.Ordinal);
    }
}
