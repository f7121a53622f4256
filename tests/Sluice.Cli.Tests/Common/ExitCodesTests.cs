using System.CommandLine;
using System.Text;
using Microsoft.Data.Sqlite;
using Sluice.Cli.Common;

namespace Sluice.Cli.Tests.Common;

/// <summary>
/// Unexpected failures — a full disk, an unwritable file, a bug — are one line and exit 4, whichever command met them,
/// never a stack trace and exit 1 ("some requests failed").
/// </summary>
public sealed class ExitCodesTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-exit-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Describe_TheMachinesFailures_AreTheirMessage_ABug_NamesItsType_NeverAControlCharacter()
    {
        Assert.Equal("No space left on device : '/tmp/out.jsonl.tmp'", ExitCodes.Describe(new IOException("No space left on device : '/tmp/out.jsonl.tmp'.")));
        Assert.Equal("Access to the path '/x' is denied", ExitCodes.Describe(new UnauthorizedAccessException("Access to the path '/x' is denied.")));
        Assert.Equal("SQLite Error 13: 'database or disk is full'", ExitCodes.Describe(new SqliteException("SQLite Error 13: 'database or disk is full'.", 13)));
        Assert.Equal("InvalidOperationException: The journal is closed", ExitCodes.Describe(new InvalidOperationException("The journal is closed.")));
        Assert.Equal("cannot write /tmp/a\\u000Ab\\u001B[2J", ExitCodes.Describe(new IOException("cannot write /tmp/a\nb\u001b[2J")));
    }

    [Fact]
    public async Task AnyCommand_FailingUnexpectedly_IsOneLine_Exit4()
    {
        // Help whose output cannot be written (a full disk behind a redirect): System.CommandLine printed a stack trace
        // and exited 1.
        var error = new StringWriter();

        int exitCode = await SluiceCommandLine.InvokeAsync(["mock", "--help"], new InvocationConfiguration { Output = new FullDisk(), Error = error }).WaitAsync(Bound);

        Assert.Equal(ExitCodes.SluiceFailed, exitCode);
        Assert.Equal("sluice mock: failed: No space left on device", error.ToString().Trim());
    }

    [Fact]
    public async Task Run_WhoseOutputCannotBeWritten_IsOneLine_Exit4_AndTheSameCommandResumes()
    {
        string input = Path.Combine(_directory, "in.jsonl");
        File.WriteAllText(input, """{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}""" + "\n", new UTF8Encoding(false));
        string[] args = ["run", input, "-o", Path.Combine(_directory, "out.jsonl"), "--mock"];
        var error = new StringWriter();

        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = new FullDisk(), Error = error }).WaitAsync(Bound);

        Assert.Equal(ExitCodes.SluiceFailed, exitCode);
        Assert.Equal(
            "sluice run: failed: No space left on device. The journal keeps every outcome committed: fix the cause and run the same command again to resume.",
            error.ToString().Trim());
        Assert.True(File.Exists(Path.Combine(_directory, "out.jsonl.journal")));

        var output = new StringWriter();
        int rerun = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = new StringWriter() }).WaitAsync(Bound);

        Assert.True(rerun == ExitCodes.Success, output.ToString());
        Assert.Single(File.ReadAllLines(Path.Combine(_directory, "out.jsonl")));
    }

    // Standard output redirected to a full disk.
    private sealed class FullDisk : StringWriter
    {
        public override void Write(char value) => throw new IOException("No space left on device");

        public override void Write(string? value) => throw new IOException("No space left on device");

        public override void Write(char[] buffer, int index, int count) => throw new IOException("No space left on device");

        public override Task WriteAsync(string? value) => throw new IOException("No space left on device");

        public override Task WriteLineAsync(string? value) => throw new IOException("No space left on device");

        public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) => throw new IOException("No space left on device");

        public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) => throw new IOException("No space left on device");
    }
}
