using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Batch;

public class OpenAIBatchOutcomeTests
{
    [Fact]
    public async Task Expiry_PutsTheUnfinishedLinesInTheErrorFile_AsBatchExpired()
    {
        // 100 s to answer 10 lines (one per 9 s after 5 s validating), but the window closes at 50 s: 5 lines done.
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.BatchProcessingTime = TimeSpan.FromSeconds(100);
            o.BatchCompletionWindow = TimeSpan.FromSeconds(50);
        });
        var id = (await mock.CreateBatchAsync(BatchRequests.ChatFile(10))).GetProperty("id").GetString()!;

        mock.Time!.Advance(TimeSpan.FromSeconds(49));
        var (_, before) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("in_progress", before.GetProperty("status").GetString());

        mock.Time.Advance(TimeSpan.FromSeconds(1));
        var (_, expired) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        Assert.Equal(5, expired.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal(JsonValueKind.Number, expired.GetProperty("expired_at").ValueKind);

        var output = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{expired.GetProperty("output_file_id").GetString()}/content")));
        var errors = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{expired.GetProperty("error_file_id").GetString()}/content")));
        Assert.Equal(Enumerable.Range(1, 5).Select(i => $"row-{i}"), output.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.Equal(Enumerable.Range(6, 5).Select(i => $"row-{i}"), errors.Select(l => l.GetProperty("custom_id").GetString()));
        Assert.All(errors, l =>
        {
            Assert.Equal(JsonValueKind.Null, l.GetProperty("response").ValueKind);
            Assert.Equal("batch_expired", l.GetProperty("error").GetProperty("code").GetString());
        });
    }

    [Fact]
    public async Task Cancel_StopsTheBatch_KeepingTheLinesAlreadyDone()
    {
        await using var mock = await RunningMock.StartAsync(o => o.BatchProcessingTime = TimeSpan.FromSeconds(100));
        var id = (await mock.CreateBatchAsync(BatchRequests.ChatFile(10))).GetProperty("id").GetString()!;
        mock.Time!.Advance(TimeSpan.FromSeconds(5 + 27));

        var (status, cancelling) = await mock.JsonAsync(RunningMock.Post($"v1/batches/{id}/cancel", new { }));
        Assert.Equal(200, status);
        Assert.Equal("cancelling", cancelling.GetProperty("status").GetString());

        mock.Time.Advance(TimeSpan.FromSeconds(5));
        var (_, cancelled) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.Equal(3, cancelled.GetProperty("request_counts").GetProperty("completed").GetInt32());
        var output = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{cancelled.GetProperty("output_file_id").GetString()}/content")));
        Assert.Equal(3, output.Count);

        var (againStatus, again) = await mock.JsonAsync(RunningMock.Post($"v1/batches/{id}/cancel", new { }));
        Assert.Equal(409, againStatus);
        Assert.Contains("cancelled", again.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, (await mock.GetJsonAsync("mock/stats")).GetProperty("batches").GetProperty("batchesCancelled").GetInt64());
    }

    [Fact]
    public async Task EnqueuedTokenLimit_FailsTheBatchThatWouldPassIt_AtValidation()
    {
        // Each line: "Prompt number N" is 4 tokens, plus max_tokens 50: 54 tokens; 10 lines are 540.
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.BatchProcessingTime = TimeSpan.FromSeconds(100);
            o.MaxEnqueuedTokens = 1000;
        });
        var first = (await mock.CreateBatchAsync(BatchRequests.ChatFile(10, "a"))).GetProperty("id").GetString()!;
        var second = (await mock.CreateBatchAsync(BatchRequests.ChatFile(10, "b"))).GetProperty("id").GetString()!;

        mock.Time!.Advance(TimeSpan.FromSeconds(5));
        var (_, ok) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{first}"));
        var (_, failed) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{second}"));
        Assert.Equal("in_progress", ok.GetProperty("status").GetString());
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        var error = Assert.Single(failed.GetProperty("errors").GetProperty("data").EnumerateArray());
        Assert.Equal("token_limit_exceeded", error.GetProperty("code").GetString());

        // Once the first has ended its tokens are no longer enqueued.
        mock.Time.Advance(TimeSpan.FromSeconds(100));
        var third = (await mock.CreateBatchAsync(BatchRequests.ChatFile(10, "c"))).GetProperty("id").GetString()!;
        mock.Time.Advance(TimeSpan.FromSeconds(5));
        var (_, accepted) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{third}"));
        Assert.Equal("in_progress", accepted.GetProperty("status").GetString());
    }

    [Fact]
    public async Task LineFailureRate_PutsFailedLinesInTheErrorFile_WithA500_AndEveryCustomIdOnce()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.BatchLineFailureRate = 0.3;
            o.Seed = 7;
        });
        var id = (await mock.CreateBatchAsync(BatchRequests.ChatFile(200))).GetProperty("id").GetString()!;
        mock.Time!.Advance(TimeSpan.FromSeconds(10));

        var (_, done) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        var counts = done.GetProperty("request_counts");
        var failed = counts.GetProperty("failed").GetInt32();
        Assert.InRange(failed, 30, 90);
        Assert.Equal(200, counts.GetProperty("completed").GetInt32() + failed);
        var output = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{done.GetProperty("output_file_id").GetString()}/content")));
        var errors = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{done.GetProperty("error_file_id").GetString()}/content")));
        Assert.Equal(failed, errors.Count);
        Assert.All(errors, l =>
        {
            Assert.Equal(500, l.GetProperty("response").GetProperty("status_code").GetInt32());
            Assert.Equal("server_error", l.GetProperty("response").GetProperty("body").GetProperty("error").GetProperty("type").GetString());
        });
        Assert.Equal(
            Enumerable.Range(1, 200).Select(i => $"row-{i}").Order(StringComparer.Ordinal),
            output.Concat(errors).Select(l => l.GetProperty("custom_id").GetString()!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ALineTheEndpointRefuses_IsInTheErrorFile_WithTheEndpointsError()
    {
        await using var mock = await RunningMock.StartAsync();
        var bad = "{\"custom_id\":\"bad\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\",\"messages\":[]}}";
        var id = (await mock.CreateBatchAsync(BatchRequests.ChatLine("good") + "\n" + bad + "\n")).GetProperty("id").GetString()!;
        mock.Time!.Advance(TimeSpan.FromSeconds(10));

        var (_, done) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        var errors = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{done.GetProperty("error_file_id").GetString()}/content")));

        var line = Assert.Single(errors);
        Assert.Equal("bad", line.GetProperty("custom_id").GetString());
        Assert.Equal(400, line.GetProperty("response").GetProperty("status_code").GetInt32());
        Assert.Equal("empty_array", line.GetProperty("response").GetProperty("body").GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Batches_AreBounded_ForgettingTheOldestEnded_ThenRefusingWith429()
    {
        await using var mock = await RunningMock.StartAsync(o => o.MaxBatches = 2);
        var oldest = (await mock.CreateBatchAsync(BatchRequests.ChatFile(1, "a"))).GetProperty("id").GetString()!;
        mock.Time!.Advance(TimeSpan.FromSeconds(10));
        await mock.CreateBatchAsync(BatchRequests.ChatFile(1, "b"));
        await mock.CreateBatchAsync(BatchRequests.ChatFile(1, "c"));

        var (goneStatus, _) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{oldest}"));
        var fileId = await mock.UploadAsync(BatchRequests.ChatFile(1, "d"));
        var (status, json) = await mock.JsonAsync(BatchRequests.CreateBatch(fileId));

        Assert.Equal(404, goneStatus);
        Assert.Equal(429, status);
        Assert.Equal("rate_limit_exceeded", json.GetProperty("error").GetProperty("code").GetString());
    }
}
