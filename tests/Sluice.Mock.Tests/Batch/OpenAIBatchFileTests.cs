using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Batch;

public class OpenAIBatchFileTests
{
    [Theory]
    [InlineData("not json", 2, "invalid_json_line")]
    [InlineData("{\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}", 2, "missing_custom_id")]
    [InlineData("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}", 2, "invalid_url")]
    [InlineData("{\"custom_id\":\"x\",\"method\":\"GET\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}", 2, "invalid_method")]
    [InlineData("{\"custom_id\":\"row-1\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o-mini\"}}", 2, "duplicate_custom_id")]
    [InlineData("{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"gpt-4o\"}}", 2, "mismatched_model")]
    public async Task Upload_RefusesABadLine_WithItsLineNumber(string badLine, int lineNumber, string code)
    {
        await using var mock = await RunningMock.StartAsync();

        var (status, json) = await mock.JsonAsync(BatchRequests.Upload(BatchRequests.ChatLine("row-1") + "\n" + badLine + "\n" + BatchRequests.ChatLine("row-3") + "\n"));

        Assert.Equal(400, status);
        var error = json.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.StartsWith($"Line {lineNumber}:", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await mock.GetJsonAsync("mock/stats")).GetProperty("batches").GetProperty("filesUploaded").GetInt64());
    }

    [Fact]
    public async Task Upload_RefusesMoreLinesThanTheLimit()
    {
        await using var mock = await RunningMock.StartAsync(o => o.MaxBatchRequests = 3);

        var (ok, _) = await mock.JsonAsync(BatchRequests.Upload(BatchRequests.ChatFile(3)));
        var (status, json) = await mock.JsonAsync(BatchRequests.Upload(BatchRequests.ChatFile(4)));

        Assert.Equal(200, ok);
        Assert.Equal(400, status);
        Assert.Equal("batch_too_large", json.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("line 4", json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_RefusesAFileOverTheByteLimit()
    {
        var file = BatchRequests.ChatFile(5);
        await using var mock = await RunningMock.StartAsync(o => o.MaxBatchFileBytes = file.Length - 1);

        var (status, json) = await mock.JsonAsync(BatchRequests.Upload(file));

        Assert.Equal(400, status);
        Assert.Equal("file_too_large", json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Upload_RefusesAnotherPurpose_AndAnEmptyFile()
    {
        await using var mock = await RunningMock.StartAsync();

        var (purposeStatus, purpose) = await mock.JsonAsync(BatchRequests.Upload(BatchRequests.ChatFile(1), purpose: "fine-tune"));
        var (emptyStatus, empty) = await mock.JsonAsync(BatchRequests.Upload(""));

        Assert.Equal(400, purposeStatus);
        Assert.Equal("purpose", purpose.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(400, emptyStatus);
        Assert.Equal("empty_file", empty.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task File_IsServedBackByteExact_ThenDeleted()
    {
        await using var mock = await RunningMock.StartAsync();
        var content = BatchRequests.ChatFile(2, "é-ü");
        var id = await mock.UploadAsync(content);

        var (_, info) = await mock.JsonAsync(BatchRequests.Get($"v1/files/{id}"));
        Assert.Equal("file", info.GetProperty("object").GetString());
        Assert.Equal("batch", info.GetProperty("purpose").GetString());
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(content), info.GetProperty("bytes").GetInt64());
        Assert.Equal(content, await mock.TextAsync(BatchRequests.Get($"v1/files/{id}/content")));

        var (deleteStatus, deleted) = await mock.JsonAsync(new HttpRequestMessage(HttpMethod.Delete, $"v1/files/{id}"));
        Assert.Equal(200, deleteStatus);
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        var (goneStatus, gone) = await mock.JsonAsync(BatchRequests.Get($"v1/files/{id}"));
        Assert.Equal(404, goneStatus);
        Assert.Equal(JsonValueKind.Object, gone.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task Upload_RefusesFilesPastTheBytesHeld()
    {
        var file = BatchRequests.ChatFile(2);
        await using var mock = await RunningMock.StartAsync(o => o.MaxStoredFileBytes = (file.Length * 2) - 1);

        await mock.UploadAsync(file);
        var (status, json) = await mock.JsonAsync(BatchRequests.Upload(file));

        Assert.Equal(400, status);
        Assert.Equal("storage_limit_exceeded", json.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task CreateBatch_RefusesAnUnknownFile_AndAWrongWindowOrEndpoint()
    {
        await using var mock = await RunningMock.StartAsync();
        var id = await mock.UploadAsync(BatchRequests.ChatFile(1));

        var (missingStatus, _) = await mock.JsonAsync(BatchRequests.CreateBatch("file-nope"));
        var (windowStatus, window) = await mock.JsonAsync(RunningMock.Post("v1/batches", new { input_file_id = id, endpoint = "/v1/chat/completions", completion_window = "1h" }));
        var (endpointStatus, endpoint) = await mock.JsonAsync(BatchRequests.CreateBatch(id, endpoint: "/v1/embeddings"));

        Assert.Equal(404, missingStatus);
        Assert.Equal(400, windowStatus);
        Assert.Equal("completion_window", window.GetProperty("error").GetProperty("param").GetString());
        Assert.Equal(400, endpointStatus);
        Assert.Equal("endpoint", endpoint.GetProperty("error").GetProperty("param").GetString());
    }
}
