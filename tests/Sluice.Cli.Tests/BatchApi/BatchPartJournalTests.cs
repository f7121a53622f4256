using Sluice.Cli.BatchApi;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchPartJournalTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-batch-parts-").FullName;

    private string JournalPath => Path.Combine(_directory, "results.jsonl.journal");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Parts_SurviveReopening_WithStatusIdsAndLines_AndTheRunIdIsStable()
    {
        string runId;
        await using (var journal = RunJournal.Open(JournalPath, "fingerprint", "requests.jsonl"))
        using (var parts = BatchPartJournal.Open(JournalPath))
        {
            runId = parts.RunId;
            parts.Add([
                new BatchPart(1, "/v1/chat/completions", "gpt-4o-mini", [new("a", 1), new("b \"quoted\"", 2)], 300, 75, 1),
                new BatchPart(2, "/v1/chat/completions", "gpt-4o", [new("c", 3)], 100, 25, 1),
            ]);
            parts.Update(1, BatchPartStatus.Submitting);
            parts.Update(1, BatchPartStatus.Submitting, fileId: "file-1");
            parts.Update(1, BatchPartStatus.Submitted, batchId: "batch_1");
        }

        await using (var journal = RunJournal.Open(JournalPath, "fingerprint", "requests.jsonl"))
        using (var parts = BatchPartJournal.Open(JournalPath))
        {
            Assert.Equal(runId, parts.RunId);
            Assert.StartsWith("sluice-", runId, StringComparison.Ordinal);
            var read = parts.ReadParts();
            Assert.Equal(2, read.Count);
            Assert.Equal((BatchPartStatus.Submitted, "file-1", "batch_1"), (read[0].Status, read[0].FileId, read[0].BatchId));
            Assert.Equal([new PartLine("a", 1), new PartLine("b \"quoted\"", 2)], read[0].Lines);
            Assert.Equal((BatchPartStatus.Planned, (string?)null, (string?)null, "gpt-4o"), (read[1].Status, read[1].FileId, read[1].BatchId, read[1].Model));
        }
    }

    [Fact]
    public async Task Add_WithCollected_MarksThePartAndAddsTheResubmissionInOneStep()
    {
        await using var journal = RunJournal.Open(JournalPath, "fingerprint", "requests.jsonl");
        using var parts = BatchPartJournal.Open(JournalPath);
        parts.Add([new BatchPart(1, "/v1/chat/completions", "m", [new("a", 1), new("b", 2)], 200, 50, 1)]);

        parts.Add([new BatchPart(2, "/v1/chat/completions", "m", [new("b", 2)], 200, 50, 2)], collected: 1);

        var read = parts.ReadParts();
        Assert.Equal([BatchPartStatus.Collected, BatchPartStatus.Planned], read.Select(p => p.Status));
        Assert.Equal(2, read[1].Attempt);
        Assert.Throws<InvalidOperationException>(() => parts.Update(9, BatchPartStatus.Submitted));
    }
}
