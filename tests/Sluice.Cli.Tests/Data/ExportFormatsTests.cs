using System.Text;

namespace Sluice.Cli.Tests.Data;

public sealed class ExportFormatsTests
{
    private const string Ok = """{"id":"b","custom_id":"a","response":{"status_code":200,"request_id":null,"body":{"type":"message","content":[{"type":"text","text":"tab\there"}],"usage":{"input_tokens":3,"output_tokens":2}}},"error":null}""";

    [Fact]
    public async Task Tsv_QuotesATab_ResultsWithBomAndCrlf_AreRead()
    {
        using var files = new DataTestFiles();
        string results = files.PathOf("results.jsonl");
        File.WriteAllText(results, "\uFEFF" + Ok + "\r\n", new UTF8Encoding(false));
        string answers = files.PathOf("answers.tsv");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("export", results, "--to", answers);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("custom_id\tstatus\tanswer\terror\tinput_tokens\toutput_tokens\tcost\tcached\r\na\tok\t\"tab\there\"\t\t3\t2\t\t\r\n", File.ReadAllText(answers));
    }

    [Fact]
    public async Task IdColumnWithoutJoin_IsAUsageError()
    {
        using var files = new DataTestFiles();
        string results = files.Write("results.jsonl", Ok + "\n");

        var (exitCode, _, stderr) = await DataCommands.RunAsync("export", results, "--to", files.PathOf("a.csv"), "--id-column", "id");

        Assert.Equal(2, exitCode);
        Assert.Contains("--id-column goes with --join", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_HasAnExample()
    {
        var (exitCode, stdout, _) = await DataCommands.RunAsync("export", "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains("sluice export results.jsonl --to answers.csv --join posts.csv", stdout, StringComparison.Ordinal);
    }
}
