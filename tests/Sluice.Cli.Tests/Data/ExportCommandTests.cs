using System.Text.Json;

namespace Sluice.Cli.Tests.Data;

public sealed class ExportCommandTests
{
    private static string Ok(string id, string content, int input = 10, int output = 5) =>
        JsonSerializer.Serialize(new
        {
            id = "batch_1",
            custom_id = id,
            response = new { status_code = 200, request_id = "r", body = new { choices = new[] { new { message = new { role = "assistant", content } } }, usage = new { prompt_tokens = input, completion_tokens = output } } },
            error = (object?)null,
            sluice = new { cost = 0.0001m, cached = false },
        });

    private static string Failed(string id) =>
        """{"id":"batch_1","custom_id":""" + JsonSerializer.Serialize(id) + ""","response":{"status_code":400,"request_id":null,"body":{"error":{"message":"bad"}}},"error":{"code":"invalid_request_error","message":"bad request"}}""";

    [Fact]
    public async Task Join_DataColumnsFirst_MissingAndFailedRows_ResultsNotInDataLast()
    {
        using var files = new DataTestFiles();
        string data = files.Write("posts.csv", "id,title\np1,A\np2,B\np3,C\n");
        // Out of order, p2 missing, one result from elsewhere.
        string results = files.Write("results.jsonl", string.Join('\n', Failed("p3"), Ok("zz", "stray"), Ok("p1", "Answer, \"one\"\nline 2")) + "\n");
        string answers = files.PathOf("answers.csv");

        var (exitCode, stdout, stderr) = await DataCommands.RunAsync("export", results, "--to", answers, "--join", data, "--id-column", "id");

        Assert.True(exitCode == 0, stderr);
        string text = File.ReadAllText(answers);
        Assert.StartsWith("id,title,custom_id,status,answer,error,input_tokens,output_tokens,cost,cached\r\n", text, StringComparison.Ordinal);
        Assert.Contains("p1,A,p1,ok,\"Answer, \"\"one\"\"\nline 2\",,10,5,0.0001,false\r\n", text, StringComparison.Ordinal);
        Assert.Contains("p2,B,p2,missing,,no result for this row in", text, StringComparison.Ordinal);
        Assert.Contains("p3,C,p3,invalid_request_error,,bad request,,,,\r\n", text, StringComparison.Ordinal);
        Assert.EndsWith(",,zz,ok,stray,,10,5,0.0001,false\r\n", text, StringComparison.Ordinal);
        Assert.Contains("1 results matched no row", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Structured_AnswerFieldsAsColumns_NonJsonIsNotJson()
    {
        using var files = new DataTestFiles();
        string results = files.Write("results.jsonl", string.Join('\n',
            Ok("a", """{"title":"T1","score":4}"""),
            Ok("b", """{"title":"T2","tags":["x","y"]}"""),
            Ok("c", "Sorry, no JSON")) + "\n");
        string answers = files.PathOf("answers.csv");

        var (exitCode, stdout, stderr) = await DataCommands.RunAsync("export", results, "--to", answers);

        Assert.True(exitCode == 0, stderr);
        string[] lines = File.ReadAllLines(answers);
        Assert.Equal("custom_id,status,answer.title,answer.score,answer.tags,error,input_tokens,output_tokens,cost,cached", lines[0]);
        Assert.Equal("a,ok,T1,4,,,10,5,0.0001,false", lines[1]);
        Assert.Equal("b,ok,T2,,\"[\"\"x\"\",\"\"y\"\"]\",,10,5,0.0001,false", lines[2]);
        Assert.StartsWith("c,not_json,,,,\"the answer is not a JSON object", lines[3], StringComparison.Ordinal);
        Assert.Contains("structured answers in 3", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextMode_KeepsJsonAsText_AndJsonlOutputKeepsKinds()
    {
        using var files = new DataTestFiles();
        string results = files.Write("results.jsonl", Ok("a", """{"title":"T1"}""") + "\n" + Ok("a", "later wins") + "\n");
        string answers = files.PathOf("answers.jsonl");

        var (exitCode, stdout, stderr) = await DataCommands.RunAsync("export", results, "--to", answers, "--answers", "text");

        Assert.True(exitCode == 0, stderr);
        var row = JsonDocument.Parse(Assert.Single(File.ReadAllLines(answers))).RootElement;
        Assert.Equal("later wins", row.GetProperty("answer").GetString());
        Assert.Equal(10, row.GetProperty("input_tokens").GetInt32());
        Assert.Equal(JsonValueKind.False, row.GetProperty("cached").ValueKind);
        Assert.Equal(JsonValueKind.Null, row.GetProperty("error").ValueKind);
        Assert.Contains("appeared more than once", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataColumnNamedStatus_ResultColumnIsPrefixed()
    {
        using var files = new DataTestFiles();
        string data = files.Write("d.csv", "id,status\n1,draft\n");
        string results = files.Write("results.jsonl", Ok("1", "x") + "\n");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("export", results, "--to", files.PathOf("a.csv"), "--join", data, "--id-column", "id");

        Assert.True(exitCode == 0, stderr);
        Assert.StartsWith("id,status,custom_id,sluice.status,answer", File.ReadAllText(files.PathOf("a.csv")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInputs_AreUsageErrors()
    {
        using var files = new DataTestFiles();
        string results = files.Write("results.jsonl", "{\"x\":1}\nnot json\n");

        var (missingExit, _, missingError) = await DataCommands.RunAsync("export", files.PathOf("none.jsonl"), "--to", files.PathOf("a.csv"));
        var (badExit, _, badError) = await DataCommands.RunAsync("export", results, "--to", files.PathOf("a.csv"));
        var (extExit, _, extError) = await DataCommands.RunAsync("export", results, "--to", files.PathOf("a.xlsx"));

        Assert.Equal((2, 2, 2), (missingExit, badExit, extExit));
        Assert.Contains("no such file", missingError, StringComparison.Ordinal);
        Assert.Contains("line 1: is not a results line", badError, StringComparison.Ordinal);
        Assert.Contains("line 2: not valid JSON", badError, StringComparison.Ordinal);
        Assert.Contains(".csv, .tsv or .jsonl", extError, StringComparison.Ordinal);
        Assert.False(File.Exists(files.PathOf("a.csv")));
    }
}
