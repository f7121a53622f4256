using System.Text.Json;
using Sluice.Mock.Content;

namespace Sluice.Mock.Tests.Content;

public class SchemaAnswerTests
{
    private const string Schema = """
        {"type": "object", "additionalProperties": false, "required": ["label", "score", "urgent", "tags", "owner", "tone", "count"],
         "properties": {
           "label": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1}, "urgent": {"type": "boolean"},
           "tags": {"type": "array", "items": {"type": "string"}}, "owner": {"type": "object", "properties": {"name": {"type": ["string", "null"]}}},
           "tone": {"type": "string", "enum": ["calm", "angry"]}, "count": {"$ref": "#/$defs/small"}},
         "$defs": {"small": {"type": "integer", "minimum": 1, "maximum": 9}}}
        """;

    [Fact]
    public void For_FollowsTheSchema_PropertyByType()
    {
        using var schema = JsonDocument.Parse(Schema);

        using var answer = JsonDocument.Parse(SchemaAnswer.For(schema.RootElement, "Is the river high?"));
        var root = answer.RootElement;

        Assert.Equal(
            ["label", "score", "urgent", "tags", "owner", "tone", "count"],
            root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("label").GetString()));
        Assert.InRange(root.GetProperty("score").GetDecimal(), 0m, 1m);
        Assert.Contains(root.GetProperty("urgent").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.Equal(JsonValueKind.String, Assert.Single(root.GetProperty("tags").EnumerateArray()).ValueKind);
        Assert.Equal(JsonValueKind.String, root.GetProperty("owner").GetProperty("name").ValueKind);
        Assert.Equal("calm", root.GetProperty("tone").GetString());
        Assert.InRange(root.GetProperty("count").GetInt64(), 1, 9);
    }

    [Fact]
    public void For_IsDeterministic_AndDependsOnThePrompt()
    {
        using var schema = JsonDocument.Parse(Schema);

        var first = SchemaAnswer.For(schema.RootElement, "one");
        var again = SchemaAnswer.For(schema.RootElement, "one");
        var prompts = Enumerable.Range(0, 20).Select(i => SchemaAnswer.For(schema.RootElement, $"prompt {i}")).Distinct().Count();

        Assert.Equal(first, again);
        Assert.True(prompts > 1, "different prompts should give different answers");
    }

    [Fact]
    public void For_IsBounded_InDepthAndProperties()
    {
        var deep = """{"type": "string"}""";
        for (var i = 0; i < 20; i++)
        {
            deep = "{\"type\": \"object\", \"properties\": {\"inner\": " + deep + "}}";
        }

        var wide = "{\"type\": \"object\", \"properties\": {" +
                   string.Join(", ", Enumerable.Range(0, 300).Select(i => $"\"p{i}\": {{\"type\": \"integer\"}}")) + "}}";
        using var deepSchema = JsonDocument.Parse(deep);
        using var wideSchema = JsonDocument.Parse(wide);

        using var deepAnswer = JsonDocument.Parse(SchemaAnswer.For(deepSchema.RootElement, "x"));
        using var wideAnswer = JsonDocument.Parse(SchemaAnswer.For(wideSchema.RootElement, "x"));

        var depth = 0;
        var node = deepAnswer.RootElement;
        while (node.ValueKind == JsonValueKind.Object)
        {
            node = node.GetProperty("inner");
            depth++;
        }

        Assert.Equal(SchemaAnswer.MaxDepth + 1, depth);
        Assert.Equal(JsonValueKind.Null, node.ValueKind);
        Assert.Equal(SchemaAnswer.MaxProperties, wideAnswer.RootElement.EnumerateObject().Count());
    }

    [Fact]
    public void JsonObject_IsAnObjectWithAReply()
    {
        using var answer = JsonDocument.Parse(SchemaAnswer.JsonObject("hello"));

        Assert.False(string.IsNullOrWhiteSpace(answer.RootElement.GetProperty("reply").GetString()));
    }
}
