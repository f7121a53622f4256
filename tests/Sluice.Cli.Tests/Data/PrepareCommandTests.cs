using System.Text.Json;

namespace Sluice.Cli.Tests.Data;

public sealed class PrepareCommandTests
{
    [Fact]
    public async Task Csv_OneLinePerRow_IdsFromColumn()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "id,title\np1,First\np2,\"Second, with \"\"quotes\"\"\"\n\n");
        string output = files.PathOf("out.jsonl");

        var (exitCode, stdout, stderr) = await DataCommands.RunAsync("prepare", data, "--template", "Title: {{title}}", "--model", "gpt-4o-mini", "--id-column", "id", "-o", output);

        Assert.True(exitCode == 0, stderr);
        var lines = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["p1", "p2"], lines.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.Equal("Title: Second, with \"quotes\"", lines[1].GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Contains("2 requests", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HashIds_SameInEveryRun()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.jsonl", "{\"t\":\"a\"}\n{\"t\":\"b\"}\n");

        await DataCommands.RunAsync("prepare", data, "-t", "{{t}}", "-m", "m", "-o", files.PathOf("1.jsonl"));
        await DataCommands.RunAsync("prepare", data, "-t", "other {{t}}", "-m", "m", "--format", "anthropic", "-o", files.PathOf("2.jsonl"));

        string[] Ids(string name) => [.. File.ReadAllLines(files.PathOf(name)).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()!)];
        Assert.Equal(Ids("1.jsonl"), Ids("2.jsonl"));
        Assert.Equal(2, Ids("1.jsonl").Distinct().Count());
    }

    [Fact]
    public async Task EveryProblem_LineNumbered_AndNothingWritten()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "id,title\np1,A\n\np1,B\n,C\np4,D,extra\n");
        string output = files.PathOf("out.jsonl");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("prepare", data, "-t", "{{title}} {{body}}", "-m", "m", "--id-column", "id", "-o", output);

        Assert.Equal(2, exitCode);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(files.Directory, "*.tmp"));
        Assert.Contains("line 2: the template names 'body', which this row lacks", stderr, StringComparison.Ordinal);
        Assert.Contains("line 3: empty row", stderr, StringComparison.Ordinal);
        Assert.Contains("line 4: duplicate id \"p1\" in 'id' (first at line 2)", stderr, StringComparison.Ordinal);
        Assert.Contains("line 5: has an empty 'id'", stderr, StringComparison.Ordinal);
        Assert.Contains("line 6: has 3 fields; the header has 2", stderr, StringComparison.Ordinal);
        Assert.Contains("5 problems", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManyProblems_FirstTwentyShown_AllCounted()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "a\n" + string.Concat(Enumerable.Range(1, 50).Select(i => $"{i}\n")));

        var (exitCode, _, stderr) = await DataCommands.RunAsync("prepare", data, "-t", "{{b}}", "-m", "m");

        Assert.Equal(2, exitCode);
        Assert.Equal(21, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("50 problems in", stderr, StringComparison.Ordinal);
        Assert.Contains("30 more not shown", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdenticalRows_WithoutIdColumn_AreDuplicates()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "t\nsame\nsame\n");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("prepare", data, "-t", "{{t}}", "-m", "m");

        Assert.Equal(2, exitCode);
        Assert.Contains("line 3: the same row as line 2", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TemplateFromFile_AndSyntaxErrorWithPosition()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "t\nx\n");
        string good = files.Write("prompt.liquid", "Say {{ t }}");
        string bad = files.Write("bad.liquid", "Say {% if t %}");

        var (okExit, _, okError) = await DataCommands.RunAsync("prepare", data, "-t", "@" + good, "-m", "m", "-o", files.PathOf("o.jsonl"));
        var (badExit, _, badError) = await DataCommands.RunAsync("prepare", data, "-t", "@" + bad, "-m", "m");
        var (missingExit, _, missingError) = await DataCommands.RunAsync("prepare", files.PathOf("nope.csv"), "-t", "x", "-m", "m");

        Assert.True(okExit == 0, okError);
        Assert.Equal("Say x", JsonDocument.Parse(File.ReadAllText(files.PathOf("o.jsonl"))).RootElement.GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal(2, badExit);
        Assert.Matches(@"--template: .*\(1:\d+\)", badError);
        Assert.Equal(2, missingExit);
        Assert.Contains("no such file", missingError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Folder_RowsFromFiles()
    {
        using var files = new DataTestFiles();
        files.Write("notes/one.md", "First note");
        files.Write("notes/two.txt", "Second note");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("prepare", files.PathOf("notes"), "-t", "{{name}}: {{text}}", "-m", "m", "--id-column", "name", "--format", "responses");

        Assert.True(exitCode == 0, stderr);
        var lines = File.ReadAllLines(files.PathOf("notes.requests.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["one", "two"], lines.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.Equal("two: Second note", lines[1].GetProperty("body").GetProperty("input").GetString());
    }

    [Fact]
    public async Task Help_HasAnExample()
    {
        var (exitCode, stdout, _) = await DataCommands.RunAsync("prepare", "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("Example:", stdout, StringComparison.Ordinal);
        Assert.Contains("1024", stdout, StringComparison.Ordinal);
    }
}
