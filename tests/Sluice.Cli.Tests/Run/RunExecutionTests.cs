using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Tests.Run;

/// <summary>
/// <c>sluice run</c> end to end against its built-in mock: paths that would overwrite one another are refused, ids of
/// any Unicode go through, ids and bytes that cannot are line-numbered input errors, and what fails unexpectedly is one
/// line with its own exit code.
/// </summary>
public sealed class RunExecutionTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-exec-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string Line(string escapedId) =>
        $$$"""{"custom_id":"{{{escapedId}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}""";

    private string In(string name) => Path.Combine(_directory, name);

    private string WriteInput(string name, params string[] lines)
    {
        File.WriteAllText(In(name), string.Join('\n', lines) + "\n", new UTF8Encoding(false));
        return In(name);
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task InputNamedAsTheResultsTemporaryFile_IsRefused_AndKept()
    {
        // `sluice run X.tmp -o X` wrote the results to X.tmp, the input, then renamed it over X: the input was gone.
        string input = WriteInput("out.jsonl.tmp", Line("a"));
        string before = File.ReadAllText(input);

        var (exitCode, _, error) = await InvokeAsync("run", input, "-o", In("out.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"sluice run: the input and the results' temporary file would be the same file, {input}", error.Trim(), StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(input));
        Assert.False(File.Exists(In("out.jsonl")));
    }

    [Theory]
    [InlineData("j-wal", "out.jsonl", "err.jsonl", "j", "the input and the journal's write-ahead log")]
    [InlineData("err.jsonl.tmp", "out.jsonl", "err.jsonl", "j", "the input and the errors' temporary file")]
    [InlineData("in.jsonl", "j-shm", "err.jsonl", "j", "the results and the journal's shared memory")]
    [InlineData("in.jsonl", "out.jsonl", "out.jsonl.tmp", "j", "the errors file and the results' temporary file")]
    public async Task PathsThatWouldBeOneFile_AreRefused_NamingBoth(string input, string results, string errors, string journal, string named)
    {
        WriteInput(input, Line("a"));

        var (exitCode, _, error) = await InvokeAsync("run", In(input), "-o", In(results), "--errors", In(errors), "--journal", In(journal), "--mock");

        Assert.Equal(2, exitCode);
        Assert.StartsWith($"sluice run: {named} would be the same file", error.Trim(), StringComparison.Ordinal);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public async Task ResultsThroughASymbolicLinkToTheInput_AreRefused()
    {
        string input = WriteInput("in.jsonl", Line("a"));
        File.CreateSymbolicLink(In("link.jsonl"), input);

        var (exitCode, _, error) = await InvokeAsync("run", input, "-o", In("link.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains("the input and the results would be the same file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResultsTemporaryFileIsADirectory_IsOneLine_Exit2_BeforeAnythingIsSent()
    {
        // It used to surface after the run as a stack trace and exit 1, "some requests failed".
        string input = WriteInput("in.jsonl", Line("a"));
        Directory.CreateDirectory(In("out.jsonl.tmp"));

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", In("out.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.Equal($"sluice run: cannot write results' temporary file to {In("out.jsonl.tmp")}: it is a directory", error.Trim());
        Assert.Empty(output);
        Assert.False(File.Exists(In("out.jsonl.journal")));
    }

    [Fact]
    public async Task ACustomIdWithALineBreak_IsAnInputErrorOnItsLine_NeverAHeader()
    {
        string input = WriteInput("in.jsonl", Line("ok"), Line("crlf\\r\\nX-Injected: yes"));

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", In("out.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains("line 2: custom_id must not contain control characters (U+000D at position 5): \"crlf\\r\\nX-Injected: yes\"", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task UnicodeCustomIds_RunEndToEnd_IntoTheResults()
    {
        // "résumé-1" failed every try (a non-ASCII header) and the run exited 1.
        string[] ids = ["résumé-1", "中文-2", "emoji-😀", "per%cent 41", "bidi-\u202E"];
        string input = WriteInput("in.jsonl", [.. ids.Select(id => Line(id))]);

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", In("out.jsonl"), "--mock");

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        var lines = File.ReadAllLines(In("out.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(ids, lines.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(lines, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task InvalidUtf8_IsAnInputErrorNamingTheLineAndTheByte_NothingSent()
    {
        byte[] first = Encoding.UTF8.GetBytes(Line("a") + "\n");
        byte[] second = Encoding.UTF8.GetBytes(Line("b-XX") + "\n");
        int at = Array.IndexOf(second, (byte)'X');
        second[at] = 0xC3;
        second[at + 1] = 0x28;
        File.WriteAllBytes(In("in.jsonl"), [.. first, .. second]);

        var (exitCode, output, error) = await InvokeAsync("run", In("in.jsonl"), "-o", In("out.jsonl"), "--mock");

        Assert.Equal(2, exitCode);
        Assert.Contains($"line 2: not valid UTF-8: byte 0xC3 at byte offset {first.Length + at} of the file", error, StringComparison.Ordinal);
        Assert.Empty(output);
    }

    [Fact]
    public async Task AnApiKeyWithALineBreak_IsRefused_NamingTheVariable_NeverTheKey()
    {
        // The key goes in a header: its newline would end that header and start one of the key's own choosing.
        Environment.SetEnvironmentVariable("SLUICE_EXEC_TEST_NEWLINE_KEY", "sk-exec-secret\r\nX-Injected: yes");
        string input = WriteInput("in.jsonl", Line("a"));

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", In("out.jsonl"), "--api-key-env", "SLUICE_EXEC_TEST_NEWLINE_KEY", "--base-url", "http://127.0.0.1:1/v1");

        Assert.Equal(2, exitCode);
        Assert.Equal("sluice run: the API key in SLUICE_EXEC_TEST_NEWLINE_KEY holds a line break or another control character; set it to the key alone", error.Trim());
        Assert.DoesNotContain("sk-exec-secret", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AUsageErrorQuotingAPath_IsOneLine_WhateverThePathHolds()
    {
        string input = In("no\nsuch\u001b[2J.jsonl");

        var (exitCode, _, error) = await InvokeAsync("run", input, "--mock");

        Assert.Equal(2, exitCode);
        Assert.Equal($"sluice run: cannot read {_directory}/no\\u000Asuch\\u001B[2J.jsonl: no such file", error.Trim());
    }
}
