using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

public sealed class RunJournalTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-journal-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task Record_ThenReopen_TheOutcomesAreFinished()
    {
        string path = PathOf("a.journal");
        await using (var journal = RunJournal.Open(path, "fp1", "in.jsonl"))
        {
            await Task.WhenAll(
                journal.RecordAsync("x", 2, succeeded: true, """{"custom_id":"x"}"""),
                journal.RecordAsync("y", 1, succeeded: false, """{"custom_id":"y"}""")).WaitAsync(Bound);
        }

        await using var reopened = RunJournal.Open(path, "fp1", "in.jsonl");
        Assert.Equal(["x", "y"], reopened.ReadFinishedIds().Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Open_ForADifferentInput_IsRefusedNamingTheOriginal()
    {
        string path = PathOf("b.journal");
        await using (RunJournal.Open(path, "fp1", "posts.jsonl"))
        {
        }

        var refused = Assert.Throws<JournalMismatchException>(() => RunJournal.Open(path, "fp2", "other.jsonl"));
        Assert.Equal("posts.jsonl", refused.RecordedInput);
    }

    [Fact]
    public async Task Open_WhileAnotherRunHoldsIt_IsRefused_AndAllowedOnceItIsClosed()
    {
        string path = PathOf("locked.journal");
        await using (RunJournal.Open(path, "fp", "in.jsonl"))
        {
            Assert.Throws<JournalInUseException>(() => RunJournal.Open(path, "fp", "in.jsonl"));
        }

        await using var reopened = RunJournal.Open(path, "fp", "in.jsonl");
        Assert.Empty(reopened.ReadFinishedIds());
    }

    [Fact]
    public async Task WriteOutputs_InInputOrder_ErrorsHoldOnlyFailures_AndARecordTwiceKeepsOneLine()
    {
        string results = PathOf("r.jsonl"), errors = PathOf("r.errors.jsonl");
        await using var journal = RunJournal.Open(PathOf("c.journal"), "fp", "in.jsonl");
        await Task.WhenAll(
            journal.RecordAsync("third", 3, succeeded: true, Output("third")),
            journal.RecordAsync("first", 1, succeeded: false, Output("first")),
            journal.RecordAsync("second", 2, succeeded: true, Output("second")),
            journal.RecordAsync("second", 2, succeeded: true, Output("second"))).WaitAsync(Bound);

        var (resultLines, errorLines) = await journal.WriteOutputsAsync(results, errors, default).WaitAsync(Bound);

        Assert.Equal((3, 1), (resultLines, errorLines));
        Assert.Equal(["first", "second", "third"], File.ReadAllLines(results).Select(CustomId));
        Assert.Equal(["first"], File.ReadAllLines(errors).Select(CustomId));
        Assert.False(File.Exists(results + ".tmp"));
    }

    [Fact]
    public async Task Commits_AreGrouped_AndCountedOnlyOnceDurable()
    {
        int committed = 0;
        await using var journal = RunJournal.Open(PathOf("d.journal"), "fp", "in.jsonl");
        journal.OnCommitted = _ => Interlocked.Increment(ref committed);

        await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => journal.RecordAsync($"id-{i}", i, true, Output($"id-{i}")))).WaitAsync(Bound);

        Assert.Equal(2_000, committed);
        Assert.InRange(journal.Commits, 1, 1_999);
    }

    [Fact]
    public async Task Journal_IsWal_AndPassesIntegrityCheck()
    {
        string path = PathOf("e.journal");
        await using (var journal = RunJournal.Open(path, "fp", "in.jsonl"))
        {
            await journal.RecordAsync("x", 1, true, Output("x")).WaitAsync(Bound);
        }

        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
        command.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", command.ExecuteScalar());
    }

    private static string Output(string id) => JsonSerializer.Serialize(new { custom_id = id });

    private static string CustomId(string line) => JsonDocument.Parse(line).RootElement.GetProperty("custom_id").GetString()!;
}
