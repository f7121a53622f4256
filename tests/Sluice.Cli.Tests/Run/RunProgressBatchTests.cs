using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

/// <summary>A worker of a shared batch says how many lines it did and how many the batch has left.</summary>
public sealed class RunProgressBatchTests
{
    private static readonly RunSettings Settings = new()
    {
        InputPath = "in.jsonl",
        ResultsPath = "out.jsonl",
        ErrorsPath = "out.errors.jsonl",
        JournalPath = "out.jsonl.journal",
        BaseUrl = new Uri("http://127.0.0.1:1/"),
        RequestsPerMinute = 600,
    };

    [Fact]
    public void StatusLine_ForABatch_SaysWhatThisWorkerDid_AndWhatTheBatchHasLeft()
    {
        var counters = Worker(left: 1_250);

        string line = new RunProgress(counters, Settings, new FakeTimeProvider(), TextWriter.Null, live: false).StatusLine();

        Assert.StartsWith("this worker 3 · batch nightly 1,250 of 2,000 left · 2 ok · 1 failed", line, StringComparison.Ordinal);
    }

    [Fact]
    public void StatusLine_ForARunOfItsOwn_IsUnchanged()
    {
        var counters = new RunCounters { Total = 10, AlreadyDone = 4 };
        counters.Committed(succeeded: true);

        string line = new RunProgress(counters, Settings, new FakeTimeProvider(), TextWriter.Null, live: false).StatusLine();

        Assert.StartsWith("5/10 done (50%) · 1 ok · 0 failed", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_ForAnUnfinishedBatch_SaysWhatIsLeft_AndThatTheResultsComeLater()
    {
        var counters = Worker(left: 40);

        string summary = new RunProgress(counters, Settings, new FakeTimeProvider(), TextWriter.Null, live: false).Summary(40, "interrupted", 0, 0);

        Assert.StartsWith("batch nightly: 2,000 requests, 40 left; this worker did 3 (2 succeeded, 1 failed)", summary, StringComparison.Ordinal);
        Assert.Contains("results: not written until the batch is complete (sluice collect writes them from any machine)", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_ForACompleteBatch_GivesTheWholeBatchsCounts_AndTheFiles()
    {
        var counters = Worker(left: 0);

        string summary = new RunProgress(counters, Settings, new FakeTimeProvider(), TextWriter.Null, live: false).Summary(0, null, 2_000, 7);

        Assert.Contains("the whole batch: 1,993 succeeded, 7 failed", summary, StringComparison.Ordinal);
        Assert.Contains("results out.jsonl (2,000 lines) · errors out.errors.jsonl (7)", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("journal", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonSummary_ForABatch_CarriesTheBatch_ThisWorkersCount_AndWhatIsLeft()
    {
        var counters = Worker(left: 12);

        string json = new RunProgress(counters, Settings with { Json = true }, new FakeTimeProvider(), TextWriter.Null, live: false).Summary(12, "interrupted", 0, 0);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal("nightly", root.GetProperty("batch").GetString());
        Assert.Equal(3, root.GetProperty("worker_done").GetInt64());
        Assert.Equal(12, root.GetProperty("batch_left").GetInt64());
    }

    private static RunCounters Worker(long left)
    {
        var counters = new RunCounters { Total = 2_000, AlreadyDone = 0, BatchName = "nightly", BatchRecordedAtStart = 100, BatchLeft = left };
        counters.Committed(succeeded: true);
        counters.Committed(succeeded: true);
        counters.Committed(succeeded: false);
        return counters;
    }
}
