using System.Text;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

public sealed class RequestFileTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Line(string id, string method = "POST", string url = "/v1/chat/completions") =>
        $$$"""{"custom_id":"{{{id}}}","method":"{{{method}}}","url":"{{{url}}}","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}""";

    private string Write(params string[] lines)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(path, string.Join('\n', lines) + "\n", new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public async Task Validate_AGoodFile_HasNoProblemsAndCountsRequests()
    {
        string path = Write(Line("a"), "", Line("b", url: "/v1/embeddings"), Line("c", url: "/v1/messages"));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        Assert.Equal(0, validation.ProblemCount);
        Assert.Equal(3, validation.Requests);
        Assert.Matches("^[0-9a-f]{64}$", validation.Fingerprint);
    }

    [Fact]
    public async Task Validate_EachKindOfBadLine_IsNamedByLineNumberWithTheOffendingValue()
    {
        string path = Write(
            Line("a"),
            "{not json",
            """{"method":"POST","url":"/v1/chat/completions","body":{}}""",
            Line("a"),
            Line("d", method: "GET"),
            Line("e", url: "/v1/unknown"),
            """{"custom_id":"f","method":"POST","url":"/v1/chat/completions","body":{"stream":true}}""",
            """{"custom_id":7,"method":"POST","url":"/v1/chat/completions","body":{}}""",
            """[1,2]""");

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        var byLine = validation.Problems.ToDictionary(p => p.LineNumber, p => p.Reason);
        Assert.Equal(8, validation.ProblemCount);
        Assert.Contains("not valid JSON", byLine[2], StringComparison.Ordinal);
        Assert.Equal("missing custom_id", byLine[3]);
        Assert.Equal("duplicate custom_id \"a\" (first on line 1)", byLine[4]);
        Assert.Equal("method must be \"POST\", not \"GET\"", byLine[5]);
        Assert.Contains("unknown url \"/v1/unknown\"", byLine[6], StringComparison.Ordinal);
        Assert.Contains("stream", byLine[7], StringComparison.Ordinal);
        Assert.Contains("custom_id must be a non-empty string, not 7", byLine[8], StringComparison.Ordinal);
        Assert.Contains("not a JSON object", byLine[9], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ALineWithSeveralProblems_NamesEveryOne()
    {
        string path = Write(Line("a"), Line("a", method: "GET", url: "/v1/images"));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Equal(2, problem.LineNumber);
        Assert.Equal(
            "method must be \"POST\", not \"GET\"; unknown url \"/v1/images\" (expected a path such as /v1/chat/completions, /v1/embeddings, /v1/responses or /v1/messages); duplicate custom_id \"a\" (first on line 1)",
            problem.Reason);
        Assert.Equal(1, validation.ProblemCount);
    }

    [Fact]
    public async Task Validate_ManyBadLines_KeepsTheFirst20AndCountsTheRest()
    {
        string path = Write(Enumerable.Range(1, 50).Select(i => Line("same")).ToArray());

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        Assert.Equal(49, validation.ProblemCount);
        Assert.Equal(RequestFile.ProblemsShown, validation.Problems.Count);
        Assert.Equal(2, validation.Problems[0].LineNumber);
    }

    [Fact]
    public async Task Fingerprint_ChangesWithTheContent()
    {
        var first = await RequestFile.ValidateAsync(Write(Line("a")), default).WaitAsync(Bound);
        var same = await RequestFile.ValidateAsync(Write(Line("a")), default).WaitAsync(Bound);
        var other = await RequestFile.ValidateAsync(Write(Line("a"), Line("b")), default).WaitAsync(Bound);

        Assert.Equal(first.Fingerprint, same.Fingerprint);
        Assert.NotEqual(first.Fingerprint, other.Fingerprint);
    }

    [Fact]
    public async Task Read_SkipsFinishedIdsAndKeepsLineNumbersAndBodies()
    {
        string path = Write(Line("a"), "", Line("b"), Line("c"));

        var lines = new List<RequestLine>();
        await foreach (var line in RequestFile.ReadAsync(path, new HashSet<string> { "b" }).WithCancellation(default))
        {
            lines.Add(line);
        }

        Assert.Equal(["a", "c"], lines.Select(l => l.CustomId));
        Assert.Equal([1, 4], lines.Select(l => l.LineNumber));
        Assert.StartsWith("{\"model\":\"gpt-4o-mini\"", Encoding.UTF8.GetString(lines[0].Body), StringComparison.Ordinal);
    }
}
