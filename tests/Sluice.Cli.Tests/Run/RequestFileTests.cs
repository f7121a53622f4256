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

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);
        var lines = new List<RequestLine>();
        await foreach (var line in RequestFile.ReadAsync(path, validation, new HashSet<string> { "b" }).WithCancellation(default))
        {
            lines.Add(line);
        }

        Assert.Equal(["a", "c"], lines.Select(l => l.CustomId));
        Assert.Equal([1, 4], lines.Select(l => l.LineNumber));
        Assert.StartsWith("{\"model\":\"gpt-4o-mini\"", Encoding.UTF8.GetString(lines[0].Body), StringComparison.Ordinal);
    }

    private string WriteBytes(params byte[][] parts)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.jsonl");
        File.WriteAllBytes(path, [.. parts.SelectMany(p => p)]);
        return path;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Validate_InvalidUtf8_IsAProblemNamingTheLineAndTheByteOffset()
    {
        // A 0xFF byte inside the second line's custom_id: it used to become U+FFFD and the line ran.
        byte[] first = Utf8(Line("a") + "\n");
        byte[] start = Utf8("{\"custom_id\":\"b");
        string path = WriteBytes(first, start, [0xFF], Utf8(Line("x")[("{\"custom_id\":\"x".Length)..] + "\n"));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Equal(2, problem.LineNumber);
        Assert.Equal($"not valid UTF-8: byte 0xFF at byte offset {first.Length + start.Length} of the file", problem.Reason);
    }

    [Theory]
    [InlineData("crlf\\r\\nX-Injected: yes", "U+000D")]
    [InlineData("tab\\there", "U+0009")]
    [InlineData("\\u001b[31mred", "U+001B")]
    [InlineData("nel\\u0085", "U+0085")]
    [InlineData("nul\\u0000", "U+0000")]
    public async Task Validate_ControlCharacterInCustomId_IsAProblem(string escapedId, string named)
    {
        string path = Write(Line("a"), Line(escapedId));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Equal(2, problem.LineNumber);
        Assert.StartsWith($"custom_id must not contain control characters ({named} at position ", problem.Reason, StringComparison.Ordinal);
        // The report itself never carries the raw control character to the terminal.
        Assert.DoesNotContain(problem.Reason, char.IsControl);
    }

    [Theory]
    [InlineData("résumé-1")]
    [InlineData("中文-2")]
    [InlineData("emoji-😀")]
    [InlineData("a%41 b")]
    [InlineData("with \\\"quotes\\\" and \\\\ backslash")]
    [InlineData("\\u202Ebidi")]
    public async Task Validate_AnyPrintableUnicodeId_IsValid(string escapedId)
    {
        var validation = await RequestFile.ValidateAsync(Write(Line(escapedId)), default).WaitAsync(Bound);

        Assert.Equal(0, validation.ProblemCount);
    }

    [Theory]
    [InlineData("custom_id", "\\ud800")]
    [InlineData("custom_id", "a\\udc00b")]
    [InlineData("method", "\\ud800")]
    [InlineData("url", "/v1/chat/completions\\ud800")]
    public async Task Validate_ALoneSurrogateEscape_IsAProblem_NotACrash(string field, string value)
    {
        string line = $$$"""{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{}}""".Replace(
            field switch { "custom_id" => "\"custom_id\":\"a\"", "method" => "\"method\":\"POST\"", _ => "\"url\":\"/v1/chat/completions\"" },
            $"\"{field}\":\"{value}\"",
            StringComparison.Ordinal);

        var validation = await RequestFile.ValidateAsync(Write(line), default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Contains($"{field} is not valid Unicode", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ACustomIdOver512Characters_IsAProblem()
    {
        var validation = await RequestFile.ValidateAsync(Write(Line(new string('x', 512)), Line(new string('y', 513))), default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Equal(2, problem.LineNumber);
        Assert.StartsWith("custom_id is 513 characters long; the most is 512", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AUtf16File_IsNamedOnLineOne()
    {
        string path = Path.Combine(_directory, "utf16.jsonl");
        File.WriteAllText(path, Line("a") + "\n", new UnicodeEncoding(bigEndian: false, byteOrderMark: true));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        Assert.Equal(1, validation.Problems[0].LineNumber);
        Assert.Contains("UTF-16", validation.Problems[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ABomCrlfAndLoneCrLineBreaks_AreAcceptedAndCountedAsBefore()
    {
        // What StreamReader accepted stays accepted, with the same line numbers (the journal orders results by them).
        string path = WriteBytes([0xEF, 0xBB, 0xBF], Utf8(Line("a") + "\r\n" + Line("b") + "\r" + "\r\n" + Line("c") + "\n"));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);
        var lines = new List<RequestLine>();
        await foreach (var line in RequestFile.ReadAsync(path, validation, new HashSet<string>()).WithCancellation(default))
        {
            lines.Add(line);
        }

        Assert.Equal(0, validation.ProblemCount);
        Assert.Equal(3, validation.Requests);
        Assert.Equal([1, 2, 4], lines.Select(l => l.LineNumber));
    }

    [Fact]
    public async Task Fingerprint_IsTheSha256OfTheFilesBytes_SoOlderJournalsStillMatch()
    {
        string path = WriteBytes([0xEF, 0xBB, 0xBF], Utf8(Line("a") + "\r\n" + Line("b")));

        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))), validation.Fingerprint);
    }

    [Fact]
    public async Task Validate_ALineOverTheCap_IsAProblem_AndTheLinesAfterItAreStillChecked()
    {
        byte[] file = Utf8(Line("a") + "\n" + new string('x', 5_000) + "\n" + Line("a") + "\n");

        var validation = await RequestFile.ValidateAsync(new MemoryStream(file), maxLineBytes: 1_024, default).WaitAsync(Bound);

        Assert.Equal(2, validation.ProblemCount);
        Assert.Equal(new LineProblem(2, "the line is 5,000 bytes long; the most is 1,024"), validation.Problems[0]);
        Assert.Equal(3, validation.Problems[1].LineNumber);
        Assert.Contains("duplicate custom_id \"a\" (first on line 1)", validation.Problems[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_ABadLinesExcerpt_HasItsControlCharactersEscaped()
    {
        // A terminal escape sequence in a broken line must not reach the terminal as one.
        var validation = await RequestFile.ValidateAsync(Write("{\"custom_id\":\u001b[2J"), default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Contains("\\u001B[2J", problem.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(problem.Reason, char.IsControl);
    }

    [Fact]
    public async Task Read_AFileChangedAfterValidation_Throws_BeforeSendingTheChangedLine()
    {
        string path = Write(Line("a"), Line("b"));
        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);
        File.WriteAllText(path, Line("a") + "\n" + Line("cc") + "\n");

        var read = new List<string>();
        var exception = await Assert.ThrowsAsync<InputChangedException>(async () =>
        {
            await foreach (var line in RequestFile.ReadAsync(path, validation, new HashSet<string>()).WithCancellation(default))
            {
                read.Add(line.CustomId);
            }
        }).WaitAsync(Bound);

        Assert.Empty(read);
        Assert.Contains("changed while it was being sent", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_AFileWhoseBytesChangedWithoutItsSizeOrTime_ThrowsAtTheEnd()
    {
        // Same length, and the time put back: only the bytes tell, so the fingerprint is compared once read.
        string path = Write(Line("a"), Line("b"));
        var validation = await RequestFile.ValidateAsync(path, default).WaitAsync(Bound);
        var time = File.GetLastWriteTimeUtc(path);
        File.WriteAllText(path, Line("a") + "\n" + Line("c") + "\n");
        File.SetLastWriteTimeUtc(path, time);

        await Assert.ThrowsAsync<InputChangedException>(async () =>
        {
            await foreach (var line in RequestFile.ReadAsync(path, validation, new HashSet<string>()).WithCancellation(default))
            {
            }
        }).WaitAsync(Bound);
    }

    [Theory]
    [InlineData("/v1/../../admin/chat/completions")]
    [InlineData("/v1/./chat/completions")]
    [InlineData("/v1/%2e%2e/%2E%2E/secret/chat/completions")]
    [InlineData("/v1/%252e%252e/%252e%252e/secret/chat/completions")]
    [InlineData("/v1/..\\\\..\\\\chat/completions")]
    public async Task Validate_AUrlThatWouldLeaveTheApisPath_IsAProblem(string url)
    {
        // It ends like an endpoint, but the address it makes resolves outside the API, and the key goes with it.
        var validation = await RequestFile.ValidateAsync(Write(Line("a", url: url)), default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Contains("holds a . or .. segment or a backslash", problem.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AUrlWithAControlCharacter_IsAProblem()
    {
        var validation = await RequestFile.ValidateAsync(Write(Line("a", url: "/v1/x\\r\\nX-Injected: yes/chat/completions")), default).WaitAsync(Bound);

        var problem = Assert.Single(validation.Problems);
        Assert.Equal("url \"/v1/x\\r\\nX-Injected: yes/chat/completions\" holds a control character", problem.Reason);
    }

    [Theory]
    [InlineData("/v1/chat/completions?note=a/../b")]
    [InlineData("/openai/deployments/gpt-4o/chat/completions")]
    [InlineData("/v1/chat/completions")]
    public async Task Validate_AUrlWithinTheApisPath_IsValid(string url)
    {
        var validation = await RequestFile.ValidateAsync(Write(Line("a", url: url)), default).WaitAsync(Bound);

        Assert.Equal(0, validation.ProblemCount);
    }
}
