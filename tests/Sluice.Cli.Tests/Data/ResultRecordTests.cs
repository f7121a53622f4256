using System.Text.Json;
using Sluice.Cli.Data;

namespace Sluice.Cli.Tests.Data;

public sealed class ResultRecordTests
{
    private static ResultRecord Read(string json)
    {
        var record = ResultRecord.Read(JsonDocument.Parse(json).RootElement, out string? problem);
        Assert.True(record is not null, problem);
        return record;
    }

    private static string Line(string body, string sluice = """{"cost":0.0012,"cached":true}""") =>
        $$"""{"id":"b1","custom_id":"c1","response":{"status_code":200,"request_id":"r","body":{{body}}},"error":null,"sluice":{{sluice}}}""";

    [Fact]
    public void Chat_ContentUsageCostCached()
    {
        var record = Read(Line("""{"choices":[{"message":{"role":"assistant","content":"Hello, \"x\""}}],"usage":{"prompt_tokens":11,"completion_tokens":3}}"""));

        Assert.Equal(("c1", "ok", "Hello, \"x\""), (record.CustomId, record.Status, record.Answer));
        Assert.Equal((11L, 3L), (record.InputTokens!.Value, record.OutputTokens!.Value));
        Assert.Equal("0.0012", record.Cost);
        Assert.True(record.Cached);
    }

    [Fact]
    public void Chat_Refusal_IsItsOwnStatus()
    {
        var record = Read(Line("""{"choices":[{"message":{"content":null,"refusal":"I can't."}}]}"""));

        Assert.Equal(("refused", "I can't."), (record.Status, record.Error));
    }

    [Fact]
    public void Responses_OutputTextParts_Joined()
    {
        var record = Read(Line("""{"object":"response","output":[{"type":"reasoning"},{"type":"message","content":[{"type":"output_text","text":"Part 1. "},{"type":"output_text","text":"Part 2."}]}],"usage":{"input_tokens":5,"output_tokens":4}}"""));

        Assert.Equal(("ok", "Part 1. Part 2."), (record.Status, record.Answer));
        Assert.Equal(5, record.InputTokens);
    }

    [Fact]
    public void Anthropic_TextBlocks_Joined()
    {
        var record = Read(Line("""{"type":"message","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}],"usage":{"input_tokens":7,"output_tokens":2}}"""));

        Assert.Equal(("ok", "AB"), (record.Status, record.Answer));
        Assert.Equal(2, record.OutputTokens);
    }

    [Fact]
    public void Anthropic_ForcedTool_AnswerIsItsInput()
    {
        var record = Read(Line("""{"type":"message","content":[{"type":"tool_use","name":"summary","input":{"title":"T","score":4}}]}"""));

        Assert.Equal("""{"title":"T","score":4}""", record.Answer);
        Assert.Equal(["title", "score"], AnswerObject.Fields(record.Answer)!.Select(f => f.Name));
    }

    [Fact]
    public void Error_StatusIsItsCode_MessageKept()
    {
        var record = Read("""{"id":"b1","custom_id":"c1","response":{"status_code":400,"request_id":null,"body":{"error":{"message":"bad"}}},"error":{"code":"invalid_request","message":"bad request"},"sluice":{"cost":null,"cached":false}}""");

        Assert.Equal(("invalid_request", "bad request", null), (record.Status, record.Error, record.Answer));
        Assert.Null(record.Cost);
    }

    [Fact]
    public void NotAResultsLine_IsAProblem()
    {
        Assert.Null(ResultRecord.Read(JsonDocument.Parse("""{"x":1}""").RootElement, out string? problem));
        Assert.Contains("custom_id", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"a":"x","b":[1]}""", true)]
    [InlineData("```json\n{\"a\":\"x\"}\n```", true)]
    [InlineData("Sure! {\"a\":1}", false)]
    [InlineData("[1,2]", false)]
    public void AnswerObject_OnlyJsonObjects(string answer, bool isObject)
    {
        Assert.Equal(isObject, AnswerObject.Fields(answer) is not null);
    }
}
