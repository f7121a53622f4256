using System.Text.Json;
using Sluice.Cli.Data;

namespace Sluice.Cli.Tests.Data;

public sealed class DataSourceTests
{
    [Fact]
    public void Csv_QuotesCommasNewlinesAndUnicode_ReadAsWritten_WithStartingLineNumbers()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.csv", "\uFEFFid,title,body\r\n1,\"Hello, \"\"world\"\"\",\"line1\nline2\"\r\n2,Ça 日本 🚀,x\r\n");

        var rows = DataSource.Read(path, DataFormat.Csv).ToList();

        Assert.Equal(2, rows.Count);
        Assert.Equal(2, rows[0].LineNumber);
        Assert.Equal(4, rows[1].LineNumber);
        Assert.Equal(["id", "title", "body"], rows[0].Fields.Select(f => f.Name));
        Assert.Equal("Hello, \"world\"", rows[0].Find("title")!.Value.Text);
        Assert.Equal("line1\nline2", rows[0].Find("body")!.Value.Text);
        Assert.Equal("Ça 日本 🚀", rows[1].Find("title")!.Value.Text);
    }

    [Fact]
    public void Tsv_SplitsAtTabs()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.tsv", "id\ttext\n7\ta, b\n");

        var row = Assert.Single(DataSource.Read(path, DataFormat.Tsv));

        Assert.Equal("a, b", row.Find("text")!.Value.Text);
    }

    [Fact]
    public void Csv_WrongFieldCountAndBlankLine_AreRowProblemsAndEmptyRows()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.csv", "id,text\n1,a\n2\n\n3,c\n");

        var rows = DataSource.Read(path, DataFormat.Csv).ToList();

        Assert.Null(rows[0].Problem);
        Assert.Contains("has 1 fields; the header has 2", rows[1].Problem, StringComparison.Ordinal);
        Assert.True(rows[2].IsEmpty);
        Assert.Equal(4, rows[2].LineNumber);
        Assert.Equal("c", rows[3].Find("text")!.Value.Text);
    }

    [Fact]
    public void Csv_MalformedQuote_StopsWithItsLineNumber()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.csv", "id,text\n1,ok\n2,\"bad\"x\n");

        var exception = Assert.Throws<DataFileException>(() => DataSource.Read(path, DataFormat.Csv).ToList());

        Assert.StartsWith("line 3:", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_DuplicateHeader_IsRefused()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.csv", "id,id\n1,2\n");

        var exception = Assert.Throws<DataFileException>(() => DataSource.Read(path, DataFormat.Csv).ToList());

        Assert.Contains("'id' twice", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Jsonl_KeepsKinds_AndNamesBadLines()
    {
        using var files = new DataTestFiles();
        string path = files.Write("a.jsonl", "{\"id\":\"a\",\"n\":3,\"tags\":[\"x\"],\"ok\":true,\"none\":null}\n[1]\nnot json\n\n{\"id\":\"b\"}\n");

        var rows = DataSource.Read(path, DataFormat.Jsonl).ToList();

        Assert.Equal(5, rows.Count);
        var first = rows[0];
        Assert.Equal(new DataField("n", "3", JsonValueKind.Number), first.Find("n"));
        Assert.Equal(new DataField("tags", "[\"x\"]", JsonValueKind.Array), first.Find("tags"));
        Assert.Equal(JsonValueKind.Null, first.Find("none")!.Value.Kind);
        Assert.Contains("not a JSON object", rows[1].Problem, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", rows[2].Problem, StringComparison.Ordinal);
        Assert.True(rows[3].IsEmpty);
        Assert.Equal(5, rows[4].LineNumber);
    }

    [Fact]
    public void Folder_TextAndMarkdownFiles_InOrdinalOrder_WithNameFileText()
    {
        using var files = new DataTestFiles();
        files.Write("posts/b.md", "# B\nbody");
        files.Write("posts/a.txt", "A text");
        files.Write("posts/sub/c.md", "C");
        files.Write("posts/skip.png", "x");
        files.Write("posts/empty.md", "  \n");

        var rows = DataSource.Read(files.PathOf("posts"), DataFormat.Folder).ToList();

        Assert.Equal(["a.txt", "b.md", "empty.md", "sub/c.md"], rows.Select(r => r.Location));
        Assert.Equal("a", rows[0].Find("name")!.Value.Text);
        Assert.Equal("# B\nbody", rows[1].Find("text")!.Value.Text);
        Assert.Equal("sub/c.md", rows[3].Find("file")!.Value.Text);
        Assert.Equal("is empty", rows[2].Problem);
    }

    [Theory]
    [InlineData("x.csv", null, "Csv")]
    [InlineData("x.TSV", null, "Tsv")]
    [InlineData("x.jsonl", null, "Jsonl")]
    [InlineData("x.txt", "csv", "Csv")]
    public void Format_FromExtensionOrOption(string path, string? given, string expected)
    {
        Assert.Equal(Enum.Parse<DataFormat>(expected), DataFormats.Resolve(path, given, out _));
    }

    [Fact]
    public void Format_UnknownExtension_SaysWhatToDo()
    {
        Assert.Null(DataFormats.Resolve("x.xlsx", null, out string? problem));
        Assert.Contains("--data-format", problem, StringComparison.Ordinal);
    }
}
