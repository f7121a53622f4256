using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Data;

namespace Sluice.Cli.Tests.Data;

public sealed class PromptTemplateTests
{
    private static readonly FakeTimeProvider Time = new();

    private static DataRow Row(params (string Name, string Text)[] fields) => new(2, "line 2", [.. fields.Select(f => new DataField(f.Name, f.Text))]);

    [Fact]
    public void Render_FillsFields_WithoutHtmlEscaping()
    {
        var template = PromptTemplate.Parse("Title: {{title}}\n{{ body | upcase }}", Time, out _)!;

        string? text = template.Render(Row(("title", "<a> & \"b\""), ("body", "ça")), out var missing);

        Assert.Equal("Title: <a> & \"b\"\nÇA", text);
        Assert.Empty(missing);
    }

    [Fact]
    public void Render_MissingField_IsNamed_NotRenderedEmpty()
    {
        var template = PromptTemplate.Parse("{{title}} {{titel}} {{ other.x }}", Time, out _)!;

        string? text = template.Render(Row(("title", "t")), out var missing);

        Assert.Null(text);
        Assert.Equal(["titel", "other"], missing);
    }

    [Fact]
    public void Render_ReusedAcrossRows_DoesNotCarryMissingNames()
    {
        var template = PromptTemplate.Parse("{{a}}", Time, out _)!;

        Assert.Null(template.Render(Row(("b", "1")), out _));
        Assert.Equal("x", template.Render(Row(("a", "x")), out var missing));
        Assert.Empty(missing);
    }

    [Fact]
    public void Render_JsonValues_KeepTheirKinds()
    {
        var template = PromptTemplate.Parse("{% if n > 2 %}big{% endif %} {{ tags | join: '+' }} {{ meta.author }}", Time, out _)!;
        var row = new DataRow(1, "line 1", [
            new DataField("n", "3", JsonValueKind.Number),
            new DataField("tags", "[\"a\",\"b\"]", JsonValueKind.Array),
            new DataField("meta", "{\"author\":\"Zoë\"}", JsonValueKind.Object),
        ]);

        Assert.Equal("big a+b Zoë", template.Render(row, out _));
    }

    [Fact]
    public void Parse_SyntaxError_GivesThePosition()
    {
        Assert.Null(PromptTemplate.Parse("Hello {{ title", Time, out string? problem));
        Assert.Matches(@"\(1:\d+\)", problem);
    }
}
