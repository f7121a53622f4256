using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Batch;

public class OpenAIBatchLifecycleTests
{
    [Fact]
    public async Task Batch_WalksValidatingInProgressFinalizingCompleted_WithOneOutputLinePerCustomId()
    {
        await using var mock = await RunningMock.StartAsync(o => o.BatchProcessingTime = TimeSpan.FromSeconds(100));
        var created = await mock.CreateBatchAsync(BatchRequests.ChatFile(10), new { job = "blog" });
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("batch_", id, StringComparison.Ordinal);
        Assert.Equal("validating", created.GetProperty("status").GetString());
        Assert.Equal("blog", created.GetProperty("metadata").GetProperty("job").GetString());
        Assert.Equal(10, created.GetProperty("request_counts").GetProperty("total").GetInt32());

        // 5 s validating, 90 s answering 10 lines (one per 9 s), 5 s finalizing.
        mock.Time!.Advance(TimeSpan.FromSeconds(5 + 45));
        var (_, half) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("in_progress", half.GetProperty("status").GetString());
        Assert.Equal(5, half.GetProperty("request_counts").GetProperty("completed").GetInt32());
        Assert.Equal(0, half.GetProperty("request_counts").GetProperty("failed").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, half.GetProperty("output_file_id").ValueKind);

        mock.Time.Advance(TimeSpan.FromSeconds(47));
        var (_, finalizing) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("finalizing", finalizing.GetProperty("status").GetString());
        Assert.Equal(10, finalizing.GetProperty("request_counts").GetProperty("completed").GetInt32());

        mock.Time.Advance(TimeSpan.FromSeconds(3));
        var (_, done) = await mock.JsonAsync(BatchRequests.Get($"v1/batches/{id}"));
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, done.GetProperty("error_file_id").ValueKind);
        var outputId = done.GetProperty("output_file_id").GetString()!;

        var output = BatchRequests.JsonLines(await mock.TextAsync(BatchRequests.Get($"v1/files/{outputId}/content")));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"row-{i}"), output.Select(l => l.GetProperty("custom_id").GetString()));
        foreach (var line in output)
        {
            Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32());
            var body = line.GetProperty("response").GetProperty("body");
            Assert.Equal("chat.completion", body.GetProperty("object").GetString());
            Assert.True(body.GetProperty("usage").GetProperty("prompt_tokens").GetInt64() > 0);
            Assert.Equal(System.Text.Json.JsonValueKind.Null, line.GetProperty("error").ValueKind);
        }

        var stats = await mock.GetJsonAsync("mock/stats");
        Assert.Equal(1, stats.GetProperty("batches").GetProperty("filesUploaded").GetInt64());
        Assert.Equal(1, stats.GetProperty("batches").GetProperty("openAIBatchesCreated").GetInt64());
        Assert.Equal(10, stats.GetProperty("batches").GetProperty("linesServed").GetInt64());
    }

    [Fact]
    public async Task List_IsNewestFirst_WithMetadata_AndPagesWithAfter()
    {
        await using var mock = await RunningMock.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await mock.CreateBatchAsync(BatchRequests.ChatFile(1, $"b{i}"), new { run = $"r{i}" })).GetProperty("id").GetString()!);
            mock.Time!.Advance(TimeSpan.FromSeconds(1));
        }

        var (_, first) = await mock.JsonAsync(BatchRequests.Get("v1/batches?limit=2"));
        Assert.Equal("list", first.GetProperty("object").GetString());
        var data = first.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([ids[2], ids[1]], data.Select(b => b.GetProperty("id").GetString()));
        Assert.Equal("r2", data[0].GetProperty("metadata").GetProperty("run").GetString());
        Assert.True(first.GetProperty("has_more").GetBoolean());

        var (_, second) = await mock.JsonAsync(BatchRequests.Get($"v1/batches?limit=2&after={ids[1]}"));
        Assert.Equal([ids[0]], second.GetProperty("data").EnumerateArray().Select(b => b.GetProperty("id").GetString()));
        Assert.False(second.GetProperty("has_more").GetBoolean());
    }
}
