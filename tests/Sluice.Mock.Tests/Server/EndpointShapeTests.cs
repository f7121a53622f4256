using System.Net;
using System.Runtime.InteropServices;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class EndpointShapeTests
{
    [Fact]
    public async Task ChatCompletion_IsShapedLikeOpenAI_WithDeterministicContent()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Chat("What is a sluice?", maxTokens: 100));
        var body = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("req_", response.Header("x-request-id"), StringComparison.Ordinal);
        Assert.StartsWith("chatcmpl-", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
        Assert.Equal("gpt-4o-mini", body.GetProperty("model").GetString());
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), body.GetProperty("created").GetInt64());
        var choice = body.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.StartsWith("Mock reply to: What is a sluice?", choice.GetProperty("message").GetProperty("content").GetString(), StringComparison.Ordinal);
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        var usage = body.GetProperty("usage");
        Assert.Equal(5, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(20, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(25, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatCompletion_HonoursTheCapAndN()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/chat/completions", new
        {
            model = "gpt-4o",
            messages = new object[] { new { role = "system", content = "Be brief." }, new { role = "user", content = new object[] { new { type = "text", text = "Hi" } } } },
            max_completion_tokens = 5,
            n = 2,
        }));
        var body = await response.JsonAsync();

        Assert.Equal(2, body.GetProperty("choices").GetArrayLength());
        Assert.All(body.GetProperty("choices").EnumerateArray(), c => Assert.Equal("length", c.GetProperty("finish_reason").GetString()));
        Assert.Equal("Mock reply to: Hi ", body.GetProperty("choices")[1].GetProperty("message").GetProperty("content").GetString()![..18]);
        Assert.Equal(10, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(3, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task SameSeed_GivesTheSameAnswer()
    {
        await using var first = await RunningMock.StartAsync(o => o.Seed = 5);
        await using var second = await RunningMock.StartAsync(o => o.Seed = 5);

        using var a = await first.SendAsync(RunningMock.Chat("Same question"));
        using var b = await second.SendAsync(RunningMock.Chat("Same question"));

        Assert.Equal(await a.Content.ReadAsStringAsync().Within(), await b.Content.ReadAsStringAsync().Within());
        Assert.Equal(a.Header("x-request-id"), b.Header("x-request-id"));
    }

    [Fact]
    public async Task Embeddings_AreDeterministicUnitVectors_AsFloatsOrBase64()
    {
        await using var mock = await RunningMock.StartAsync();

        using var floats = await mock.SendAsync(RunningMock.Post("v1/embeddings", new { model = "text-embedding-3-small", input = new[] { "alpha", "beta", "alpha" }, dimensions = 8 }));
        using var base64 = await mock.SendAsync(RunningMock.Post("v1/embeddings", new { model = "text-embedding-3-small", input = "alpha", dimensions = 8, encoding_format = "base64" }));
        var body = await floats.JsonAsync();

        Assert.Equal("list", body.GetProperty("object").GetString());
        var data = body.GetProperty("data");
        Assert.Equal(3, data.GetArrayLength());
        Assert.Equal(2, data[2].GetProperty("index").GetInt32());
        var alpha = data[0].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(8, alpha.Length);
        Assert.Equal(alpha, data[2].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.NotEqual(alpha, data[1].GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray());
        Assert.Equal(1.0, Math.Sqrt(alpha.Sum(v => (double)v * v)), 4);
        Assert.Equal(5, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var decoded = MemoryMarshal.Cast<byte, float>(Convert.FromBase64String((await base64.JsonAsync()).GetProperty("data")[0].GetProperty("embedding").GetString()!)).ToArray();
        Assert.Equal(alpha, decoded);
    }

    [Fact]
    public async Task Embeddings_DefaultToTheModelsDimensions_AndAcceptTokenIds()
    {
        await using var mock = await RunningMock.StartAsync();

        using var large = await mock.SendAsync(RunningMock.Post("v1/embeddings", new { model = "text-embedding-3-large", input = new[] { 1, 2, 3, 4, 5 } }));
        var body = await large.JsonAsync();

        Assert.Equal(3072, body.GetProperty("data")[0].GetProperty("embedding").GetArrayLength());
        Assert.Equal(5, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task Responses_IsShapedLikeOpenAI()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/responses", new
        {
            model = "gpt-4.1",
            instructions = "Be kind.",
            input = new object[] { new { role = "user", content = new object[] { new { type = "input_text", text = "Tell me a story" } } } },
        }));
        using var capped = await mock.SendAsync(RunningMock.Post("v1/responses", new { model = "gpt-4.1", input = "Hi", max_output_tokens = 16, }));
        var body = await response.JsonAsync();

        Assert.StartsWith("resp_", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("response", body.GetProperty("object").GetString());
        Assert.Equal("completed", body.GetProperty("status").GetString());
        var content = body.GetProperty("output")[0].GetProperty("content")[0];
        Assert.Equal("output_text", content.GetProperty("type").GetString());
        Assert.StartsWith("Mock reply to: Tell me a story", content.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(6, body.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(20, body.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        var cappedBody = await capped.JsonAsync();
        Assert.Equal("incomplete", cappedBody.GetProperty("status").GetString());
        Assert.Equal("max_output_tokens", cappedBody.GetProperty("incomplete_details").GetProperty("reason").GetString());
        Assert.Equal(16, cappedBody.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Messages_IsShapedLikeAnthropic()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Post("v1/messages", new
        {
            model = "claude-sonnet-4-5-20250929",
            max_tokens = 3,
            system = "Be brief.",
            messages = new object[] { new { role = "user", content = new object[] { new { type = "text", text = "Hello" } } } },
        }).WithAnthropicHeaders());
        var body = await response.JsonAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("req_", response.Header("request-id"), StringComparison.Ordinal);
        Assert.StartsWith("msg_01", body.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("message", body.GetProperty("type").GetString());
        Assert.Equal("assistant", body.GetProperty("role").GetString());
        Assert.Equal("claude-sonnet-4-5-20250929", body.GetProperty("model").GetString());
        Assert.Equal("Mock reply t", body.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("max_tokens", body.GetProperty("stop_reason").GetString());
        Assert.Equal(4, body.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(3, body.GetProperty("usage").GetProperty("output_tokens").GetInt32());
    }

    [Fact]
    public async Task Models_ListsTheKnownModels()
    {
        await using var mock = await RunningMock.StartAsync(o => o.Models.Add("my-model"));

        var body = await mock.GetJsonAsync("v1/models");

        var ids = body.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains("gpt-4o-mini", ids);
        Assert.Contains("my-model", ids);
    }
}
