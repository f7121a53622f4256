using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Batch;

/// <summary>Builds Batch API requests and input files for the tests.</summary>
internal static class BatchRequests
{
    public static string ChatLine(string customId, string prompt = "Hello", string model = "gpt-4o-mini", int maxTokens = 50) =>
        JsonSerializer.Serialize(new
        {
            custom_id = customId,
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model, max_tokens = maxTokens, messages = new object[] { new { role = "user", content = prompt } } },
        });

    public static string ChatFile(int lines, string prefix = "row", int maxTokens = 50) =>
        string.Concat(Enumerable.Range(1, lines).Select(i => ChatLine($"{prefix}-{i}", $"Prompt number {i}", maxTokens: maxTokens) + "\n"));

    public static HttpRequestMessage Upload(string content, string purpose = "batch", string filename = "batch.jsonl")
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(purpose), "purpose" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/jsonl");
        form.Add(file, "file", filename);
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/files") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RunningMock.Key);
        return request;
    }

    public static HttpRequestMessage CreateBatch(string fileId, object? metadata = null, string endpoint = "/v1/chat/completions") =>
        RunningMock.Post("v1/batches", new { input_file_id = fileId, endpoint, completion_window = "24h", metadata });

    public static HttpRequestMessage Get(string path, bool anthropic = false)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RunningMock.Key);
        return anthropic ? request.WithAnthropicHeaders() : request;
    }

    public static HttpRequestMessage AnthropicBatch(IEnumerable<(string CustomId, string Prompt)> requests, string model = "claude-sonnet-4-5") =>
        RunningMock.Post("v1/messages/batches", new
        {
            requests = requests.Select(r => new
            {
                custom_id = r.CustomId,
                @params = new { model, max_tokens = 100, messages = new object[] { new { role = "user", content = r.Prompt } } },
            }),
        }).WithAnthropicHeaders();

    public static async Task<(int Status, JsonElement Json)> JsonAsync(this RunningMock mock, HttpRequestMessage request)
    {
        using var response = await mock.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync().Within();
        return ((int)response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<string> TextAsync(this RunningMock mock, HttpRequestMessage request)
    {
        using var response = await mock.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        return await response.Content.ReadAsStringAsync().Within();
    }

    public static List<JsonElement> JsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    public static async Task<string> UploadAsync(this RunningMock mock, string content)
    {
        var (status, json) = await mock.JsonAsync(Upload(content));
        Assert.Equal(200, status);
        return json.GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> CreateBatchAsync(this RunningMock mock, string content, object? metadata = null)
    {
        var fileId = await mock.UploadAsync(content);
        var (status, json) = await mock.JsonAsync(CreateBatch(fileId, metadata));
        Assert.Equal(200, status);
        return json;
    }
}
