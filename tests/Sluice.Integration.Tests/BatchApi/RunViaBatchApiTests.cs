using System.Text.Json;
using Microsoft.Data.Sqlite;
using Sluice.Integration.Tests.Run;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.BatchApi;

/// <summary>
/// <c>sluice run --via batch-api</c> in-process against the mock's OpenAI Batch API, time compressed by the mock's
/// batch options: every custom_id ends with exactly one results line in the live run's format, expired lines are
/// resubmitted, and no part is submitted as two batches.
/// </summary>
public sealed class RunViaBatchApiTests(ITestOutputHelper log)
{
    // Each line is about 30 tokens of prompt plus its 20-token cap: 600 tokens a part puts about 12 lines in each.
    internal static readonly string[] FewParts = ["--via", "batch-api", "--poll-interval", "50ms", "--max-enqueued-tokens", "600"];

    [Fact]
    public async Task ViaBatchApi_EveryIdExactlyOnce_InInputOrder_InTheLiveFormat_AtBatchPrices()
    {
        using var files = new BatchFiles(40);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(300), Seed = 5 }).WaitAsync(BatchFiles.Bound);

        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, FewParts);
        log.WriteLine(output + error);

        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        long parts = PartCount(files);
        Assert.InRange(parts, 2, 40);
        Assert.Equal(parts, mock.GetStats().Batches.OpenAIBatchesCreated);
        Assert.All(lines, line =>
        {
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("error").ValueKind);
            Assert.False(line.GetProperty("sluice").GetProperty("cached").GetBoolean());
            Assert.True(line.GetProperty("sluice").GetProperty("cost").GetDecimal() > 0);
        });
        Assert.Contains("saved", output, StringComparison.Ordinal);

        // The same file sent live writes lines of the same shape: same fields, same order, same response fields.
        using var live = new BatchFiles(40);
        var (liveExit, liveOutput, liveError) = await live.RunAsync(mock.BaseUrl, "--no-cache");
        Assert.True(liveExit == 0, $"live exit {liveExit}: {liveOutput} {liveError}");
        var liveLine = BatchFiles.ReadLines(live.Results)[0];
        Assert.Equal(Shape(liveLine), Shape(lines[0]));
        Assert.Equal(Shape(liveLine.GetProperty("response")), Shape(lines[0].GetProperty("response")));
        // Half price: the batch line's cost is below the live line's for the same model and mock answer size.
        Assert.True(lines[0].GetProperty("sluice").GetProperty("cost").GetDecimal() < liveLine.GetProperty("sluice").GetProperty("cost").GetDecimal());
    }

    [Fact]
    public async Task ExpiredPart_ItsUnfinishedLinesGoIntoANewPart_WhichIsSubmittedAndCompletes()
    {
        using var files = new BatchFiles(30);
        long inputBytes = new FileInfo(files.Input).Length;
        // Provider A gives a batch three quarters of the time it needs, so the first part expires with about a quarter
        // of its lines unfinished; and it holds files for little more than that part, so uploading the resubmission is
        // refused and the run stops there, journalled. (A's window would expire every batch: its last line never ends.)
        await using var expiring = await MockServer.StartAsync(new MockOptions
        {
            BatchProcessingTime = TimeSpan.FromMilliseconds(400),
            BatchCompletionWindow = TimeSpan.FromMilliseconds(300),
            MaxStoredFileBytes = inputBytes + (inputBytes / 10),
            Seed = 7,
        }).WaitAsync(BatchFiles.Bound);
        var (first, firstOutput, firstError) = await files.RunAsync(expiring.BaseUrl, "--via", "batch-api", "--poll-interval", "50ms");
        log.WriteLine(firstOutput + firstError);
        Assert.True(first == 3, $"exit {first}: {firstOutput} {firstError}");
        Assert.Equal(1, expiring.GetStats().Batches.OpenAIBatchesCreated);
        int doneByTheExpiredBatch = BatchFiles.ReadLines(files.Results).Count;
        Assert.InRange(doneByTheExpiredBatch, 1, 29);

        // Provider B (the same account, in effect) takes the rest: the new part, and only it.
        await using var completing = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(300), Seed = 8 }).WaitAsync(BatchFiles.Bound);
        var (exit, output, error) = await files.RunAsync(completing.BaseUrl, "--via", "batch-api", "--poll-interval", "50ms");
        log.WriteLine(output + error);

        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, line => Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32()));
        Assert.Equal(1, completing.GetStats().Batches.OpenAIBatchesCreated);
        Assert.Equal(2, PartCount(files));
        Assert.Contains("30 succeeded, 0 failed, 0 not done", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LinesFailingWithServerErrors_AreResubmitted_UntilEveryIdSucceeds()
    {
        using var files = new BatchFiles(30);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            BatchProcessingTime = TimeSpan.FromMilliseconds(200),
            BatchLineFailureRate = 0.3,
            Seed = 7,
        }).WaitAsync(BatchFiles.Bound);

        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, "--via", "batch-api", "--poll-interval", "50ms", "--max-attempts", "20");
        log.WriteLine(output + error);

        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, line => Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32()));
        long created = mock.GetStats().Batches.OpenAIBatchesCreated;
        Assert.True(created >= 2, $"{created} batches: 30% of lines fail in each");
        Assert.Equal(created, PartCount(files));
    }

    [Fact]
    public async Task PartJournalledAsSubmittingWithoutItsBatchId_IsFoundByMetadata_NotSubmittedAgain()
    {
        using var files = new BatchFiles(20);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(300), Seed = 9 }).WaitAsync(BatchFiles.Bound);
        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, FewParts);
        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        long created = mock.GetStats().Batches.OpenAIBatchesCreated;

        // As if killed between creating the batch and journalling its id: the part says "submitting", no batch id,
        // and its outcomes are not journalled.
        using (var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                DELETE FROM outcomes WHERE custom_id IN (SELECT value ->> 1 FROM batch_parts, json_each(batch_parts.lines) WHERE part = 1);
                UPDATE batch_parts SET status = 'Submitting', batch_id = NULL WHERE part = 1;
                """;
            command.ExecuteNonQuery();
        }

        File.Delete(files.Results);
        var (again, againOutput, againError) = await files.RunAsync(mock.BaseUrl, FewParts);
        log.WriteLine(againOutput + againError);

        Assert.True(again == 0, $"exit {again}: {againOutput} {againError}");
        Assert.Equal(created, mock.GetStats().Batches.OpenAIBatchesCreated);
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }

    [Fact]
    public async Task PollIntervalWithoutViaBatchApi_IsAUsageError_NothingSent()
    {
        using var files = new BatchFiles(3);
        await using var mock = await MockServer.StartAsync(new MockOptions()).WaitAsync(BatchFiles.Bound);

        var (exitPoll, _, errorPoll) = await files.RunAsync(mock.BaseUrl, "--poll-interval", "1s");

        Assert.Equal(2, exitPoll);
        Assert.Contains("--via batch-api only", errorPoll, StringComparison.Ordinal);
        Assert.Equal(0, mock.GetStats().Batches.FilesUploaded);
    }

    [Fact]
    public async Task ViaBatchApi_WithASpendCap_StopsBeforeTheCap_AndARerunWithoutItFinishesTheRest_NoPartSubmittedTwice()
    {
        using var files = new BatchFiles(40);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(200), Seed = 11 }).WaitAsync(BatchFiles.Bound);
        // About 12 lines a part, each line's worst case about $0.00000825 at batch prices: room for two parts' worst cases, not four.
        const decimal Cap = 0.00025m;

        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, [.. FewParts, "--max-spend", "0.00025"]);
        log.WriteLine(output + error);

        Assert.True(exit == 3, $"exit {exit}: {output} {error}");
        Assert.Contains("stopped by --max-spend", output, StringComparison.Ordinal);
        Assert.Contains("the spend cap $0.00025 is reached", error, StringComparison.Ordinal);
        var answered = BatchFiles.ReadLines(files.Results);
        Assert.InRange(answered.Count, 1, 39);
        Assert.True(answered.Sum(l => l.GetProperty("sluice").GetProperty("cost").GetDecimal()) <= Cap, "the lines answered cost no more than the cap");
        // Parts planned but refused by the cap are journalled without a batch: only the parts submitted became batches.
        long createdCapped = mock.GetStats().Batches.OpenAIBatchesCreated;
        Assert.Equal(PartCount(files), createdCapped);
        Assert.True(PlannedCount(files) > createdCapped, "some parts were planned and not submitted");

        var (rerun, rerunOutput, rerunError) = await files.RunAsync(mock.BaseUrl, FewParts);
        log.WriteLine(rerunOutput + rerunError);

        Assert.True(rerun == 0, $"exit {rerun}: {rerunOutput} {rerunError}");
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        // Every part journalled became exactly one batch, across both runs: none submitted twice.
        Assert.Equal(PartCount(files), mock.GetStats().Batches.OpenAIBatchesCreated);
        Assert.Equal(PlannedCount(files), PartCount(files));
    }

    [Fact]
    public async Task ViaAuto_ADeadlineThatAllowsTheBatchApi_ChoosesItOnlyWhenItIsKnownToCostLess()
    {
        using var files = new BatchFiles(6);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(200) }).WaitAsync(BatchFiles.Bound);

        // gpt-4o-mini is half price in a batch: the Batch API, with both estimates said.
        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, "--via", "auto", "--deadline", "2d", "--poll-interval", "50ms");
        log.WriteLine(output + error);
        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        Assert.Contains("at batch prices: up to $", error, StringComparison.Ordinal);
        Assert.Equal(1, mock.GetStats().Batches.OpenAIBatchesCreated);

        // The same model priced alike in a batch (a prices file over the shipped table): nothing to gain, live calls.
        using var again = new BatchFiles(6);
        string prices = Path.Combine(again.Directory, "prices.json");
        await File.WriteAllTextAsync(prices, """{"asOf":"2026-12-01","openai":{"models":{"gpt-4o-mini":{"input":0.15,"output":0.6,"batchInput":0.15,"batchOutput":0.6}}}}""");
        long received = mock.GetStats().Received;
        var (liveExit, liveOutput, liveError) = await again.RunAsync(mock.BaseUrl, "--via", "auto", "--deadline", "2d", "--prices", prices, "--no-cache");
        log.WriteLine(liveOutput + liveError);
        Assert.True(liveExit == 0, $"exit {liveExit}: {liveOutput} {liveError}");
        Assert.Contains("live calls: the deadline allows the Batch API, but no line's model is cheaper at batch prices", liveError, StringComparison.Ordinal);
        Assert.Equal(1, mock.GetStats().Batches.OpenAIBatchesCreated);
        Assert.True(mock.GetStats().Received - received >= 6, "the six lines were sent live");
        Assert.Equal(again.Ids, BatchFiles.ReadLines(again.Results).Select(BatchFiles.IdOf));
    }

    internal static long PartCount(BatchFiles files)
    {
        using var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM batch_parts WHERE batch_id IS NOT NULL";
        return (long)command.ExecuteScalar()!;
    }

    private static long PlannedCount(BatchFiles files)
    {
        using var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM batch_parts";
        return (long)command.ExecuteScalar()!;
    }

    private static string[] Shape(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name)];
}
