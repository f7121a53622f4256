using Microsoft.Data.Sqlite;
using Sluice.Integration.Tests.Run;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.BatchApi;

/// <summary><c>sluice run --provider anthropic --via batch-api</c> against the mock's Message Batches API.</summary>
public sealed class RunViaAnthropicBatchesTests(ITestOutputHelper log)
{
    private static readonly string[] Anthropic = ["--provider", "anthropic", "--via", "batch-api", "--poll-interval", "50ms"];

    private static BatchFiles Files(int count) => new(count, _ => "claude-sonnet-4-5", url: "/v1/messages");

    [Fact]
    public async Task ViaMessageBatches_EveryIdExactlyOnce_WithServerErrorsResubmitted()
    {
        using var files = Files(30);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(300), BatchLineFailureRate = 0.2, Seed = 21 }).WaitAsync(BatchFiles.Bound);

        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, [.. Anthropic, "--max-attempts", "20"]);
        log.WriteLine(output + error);

        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        var lines = BatchFiles.ReadLines(files.Results);
        Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
        Assert.All(lines, line =>
        {
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal("message", line.GetProperty("response").GetProperty("body").GetProperty("type").GetString());
            Assert.True(line.GetProperty("sluice").GetProperty("cost").GetDecimal() > 0);
        });
        long created = mock.GetStats().Batches.AnthropicBatchesCreated;
        Assert.True(created >= 2, $"{created} batches: a fifth of the lines fail with api_error in each");
        Assert.Equal(created, RunViaBatchApiTests.PartCount(files));
    }

    [Fact]
    public async Task PartJournalledAsSubmittingWithoutItsBatchId_IsFoundByTimeAndSize_NotSubmittedAgain()
    {
        using var files = Files(20);
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromMilliseconds(300), Seed = 22 }).WaitAsync(BatchFiles.Bound);
        var (exit, output, error) = await files.RunAsync(mock.BaseUrl, Anthropic);
        Assert.True(exit == 0, $"exit {exit}: {output} {error}");
        Assert.Equal(1, mock.GetStats().Batches.AnthropicBatchesCreated);

        // As if killed between creating the batch and journalling its id.
        using (var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DELETE FROM outcomes; UPDATE batch_parts SET status = 'Submitting', batch_id = NULL WHERE part = 1;";
            command.ExecuteNonQuery();
        }

        var (again, againOutput, againError) = await files.RunAsync(mock.BaseUrl, Anthropic);
        log.WriteLine(againOutput + againError);

        Assert.True(again == 0, $"exit {again}: {againOutput} {againError}");
        Assert.Equal(1, mock.GetStats().Batches.AnthropicBatchesCreated);
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }
}
