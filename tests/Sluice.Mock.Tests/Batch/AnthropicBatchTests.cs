using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Batch;

public class AnthropicBatchTests
{
    private static IEnumerable<(string, string)> Requests(int count, string prefix = "req") =>
        Enumerable.Range(1, count).Select(i => ($"{prefix}-{i}", $"Question {i}"));

    [Fact]
    public async Task Batch_ProcessesToEnded_WithOneSucceededResultPerCustomId()
    {
        await using var mock = await RunningMock.StartAsync(o => o.BatchProcessingTime = TimeSpan.FromSeconds(100));
        var (status, created) = await mock.JsonAsync(BatchRequests.AnthropicBatch(Requests(10)));
        Assert.Equal(200, status);
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("msgbatch_", id, StringComparison.Ordinal);
        Assert.Equal("message_batch", created.GetProperty("type").GetString());
        Assert.Equal("in_progress", created.GetProperty("processing_status").GetString());
        Assert.Equal(10, created.GetProperty("request_counts").GetProperty("processing").GetInt32());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("results_url").ValueKind);
        Assert.Equal("2026-01-02T00:00:00.000000Z", created.GetProperty("expires_at").GetString());

        var (early, _) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches/{id}/results", anthropic: true));
        Assert.Equal(404, early);

        mock.Time!.Advance(TimeSpan.FromSeconds(5 + 45));
        var (_, half) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches/{id}", anthropic: true));
        Assert.Equal(5, half.GetProperty("request_counts").GetProperty("succeeded").GetInt32());
        Assert.Equal(5, half.GetProperty("request_counts").GetProperty("processing").GetInt32());

        mock.Time.Advance(TimeSpan.FromSeconds(50));
        var (_, ended) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches/{id}", anthropic: true));
        Assert.Equal("ended", ended.GetProperty("processing_status").GetString());
        Assert.Equal(10, ended.GetProperty("request_counts").GetProperty("succeeded").GetInt32());
        var resultsUrl = ended.GetProperty("results_url").GetString()!;
        Assert.EndsWith($"/v1/messages/batches/{id}/results", resultsUrl, StringComparison.Ordinal);

        var results = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get(resultsUrl, anthropic: true)));
        Assert.Equal(Requests(10).Select(r => r.Item1), results.Select(r => r.GetProperty("custom_id").GetString()));
        Assert.All(results, r =>
        {
            Assert.Equal("succeeded", r.GetProperty("result").GetProperty("type").GetString());
            var message = r.GetProperty("result").GetProperty("message");
            Assert.Equal("message", message.GetProperty("type").GetString());
            Assert.True(message.GetProperty("usage").GetProperty("output_tokens").GetInt64() > 0);
        });
        Assert.Equal(1, (await mock.GetJsonAsync("mock/stats")).GetProperty("batches").GetProperty("anthropicBatchesCreated").GetInt64());
    }

    [Fact]
    public async Task Expiry_AndCancel_LeaveExpiredAndCanceledResults()
    {
        await using var mock = await RunningMock.StartAsync(o =>
        {
            o.BatchProcessingTime = TimeSpan.FromSeconds(100);
            o.BatchCompletionWindow = TimeSpan.FromSeconds(50);
        });
        var (_, expiring) = await mock.JsonAsync(BatchRequests.AnthropicBatch(Requests(10, "e")));
        var (_, cancelling) = await mock.JsonAsync(BatchRequests.AnthropicBatch(Requests(10, "c")));
        mock.Time!.Advance(TimeSpan.FromSeconds(5 + 18));
        var (_, canceling) = await mock.JsonAsync(RunningMock.Post($"v1/messages/batches/{cancelling.GetProperty("id").GetString()}/cancel", new { }).WithAnthropicHeaders());
        Assert.Equal("canceling", canceling.GetProperty("processing_status").GetString());
        Assert.Equal(JsonValueKind.String, canceling.GetProperty("cancel_initiated_at").ValueKind);

        mock.Time.Advance(TimeSpan.FromSeconds(30));
        var (_, expired) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches/{expiring.GetProperty("id").GetString()}", anthropic: true));
        var (_, canceled) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches/{cancelling.GetProperty("id").GetString()}", anthropic: true));
        Assert.Equal("ended", expired.GetProperty("processing_status").GetString());
        Assert.Equal(5, expired.GetProperty("request_counts").GetProperty("expired").GetInt32());
        Assert.Equal("ended", canceled.GetProperty("processing_status").GetString());
        Assert.Equal(8, canceled.GetProperty("request_counts").GetProperty("canceled").GetInt32());

        var expiredResults = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get(expired.GetProperty("results_url").GetString()!, anthropic: true)));
        var canceledResults = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get(canceled.GetProperty("results_url").GetString()!, anthropic: true)));
        Assert.Equal(5, expiredResults.Count(r => r.GetProperty("result").GetProperty("type").GetString() == "expired"));
        Assert.Equal(8, canceledResults.Count(r => r.GetProperty("result").GetProperty("type").GetString() == "canceled"));
        Assert.Equal(10, expiredResults.Select(r => r.GetProperty("custom_id").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task AnInvalidRequest_IsAnErroredResult_WithAnthropicsErrorShape()
    {
        await using var mock = await RunningMock.StartAsync();
        var (_, created) = await mock.JsonAsync(RunningMock.Post("v1/messages/batches", new
        {
            requests = new object[]
            {
                new { custom_id = "ok", @params = new { model = "claude-sonnet-4-5", max_tokens = 10, messages = new[] { new { role = "user", content = "Hi" } } } },
                new { custom_id = "bad", @params = new { model = "claude-sonnet-4-5", messages = new[] { new { role = "user", content = "Hi" } } } },
            },
        }).WithAnthropicHeaders());
        mock.Time!.Advance(TimeSpan.FromSeconds(10));

        var results = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/messages/batches/{created.GetProperty("id").GetString()}/results", anthropic: true)));

        var bad = results.Single(r => r.GetProperty("custom_id").GetString() == "bad").GetProperty("result");
        Assert.Equal("errored", bad.GetProperty("type").GetString());
        Assert.Equal("error", bad.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal("invalid_request_error", bad.GetProperty("error").GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Create_RefusesDuplicateOrMalformedIds_AndTooManyRequests()
    {
        await using var mock = await RunningMock.StartAsync();

        var (duplicateStatus, duplicate) = await mock.JsonAsync(BatchRequests.AnthropicBatch([("a", "x"), ("a", "y")]));
        var (patternStatus, _) = await mock.JsonAsync(BatchRequests.AnthropicBatch([("has space", "x")]));
        var (tooManyStatus, tooMany) = await mock.JsonAsync(RunningMock.Post("v1/messages/batches", new
        {
            requests = Enumerable.Range(0, 100_001).Select(i => new { custom_id = $"r{i}", @params = new { } }),
        }).WithAnthropicHeaders());
        var (noVersionStatus, _) = await mock.JsonAsync(RunningMock.Post("v1/messages/batches", new { requests = Array.Empty<object>() }));

        Assert.Equal(400, duplicateStatus);
        Assert.Equal("invalid_request_error", duplicate.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains("requests.1.custom_id", duplicate.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, patternStatus);
        Assert.Equal(400, tooManyStatus);
        Assert.Contains("100000", tooMany.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, noVersionStatus);
        Assert.Equal(0, (await mock.GetJsonAsync("mock/stats")).GetProperty("batches").GetProperty("anthropicBatchesCreated").GetInt64());
    }

    [Fact]
    public async Task List_IsNewestFirst_AndPagesWithAfterId()
    {
        await using var mock = await RunningMock.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, created) = await mock.JsonAsync(BatchRequests.AnthropicBatch(Requests(1, $"p{i}")));
            ids.Add(created.GetProperty("id").GetString()!);
        }

        var (_, first) = await mock.JsonAsync(BatchRequests.Get("v1/messages/batches?limit=2", anthropic: true));
        var (_, rest) = await mock.JsonAsync(BatchRequests.Get($"v1/messages/batches?limit=2&after_id={ids[1]}", anthropic: true));

        Assert.Equal([ids[2], ids[1]], first.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.True(first.GetProperty("has_more").GetBoolean());
        Assert.Equal([ids[0]], rest.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.False(rest.GetProperty("has_more").GetBoolean());
    }
}
