using System.Net;
using System.Text;
using System.Text.Json;
using Sluice.Mock.Tests.Support;

namespace Sluice.Mock.Tests.Server;

public class BadInputTests
{
    public static TheoryData<string, string, int, string?, string?> OpenAICases => new()
    {
        // path, body, status, error.code, a fragment of error.message
        { "v1/chat/completions", "{not json", 400, null, "could not parse the JSON body" },
        { "v1/chat/completions", "", 400, null, "could not parse the JSON body" },
        { "v1/chat/completions", "[1,2]", 400, "invalid_type", "Invalid type for 'body'" },
        { "v1/chat/completions", """{"messages":[{"role":"user","content":"x"}]}""", 400, null, "you must provide a model parameter" },
        { "v1/chat/completions", """{"model":"gpt-4o"}""", 400, "missing_required_parameter", "Missing required parameter: 'messages'." },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":"hi"}""", 400, "invalid_type", "Invalid type for 'messages'" },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":[]}""", 400, "empty_array", "empty array" },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":[{"content":"x"}]}""", 400, "missing_required_parameter", "'messages[0].role'" },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":5}]}""", 400, "invalid_type", "'messages[0].content'" },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", 400, "integer_below_min_value", "Expected a value >= 1" },
        { "v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"stream":"yes"}""", 400, "invalid_type", "'stream'" },
        { "v1/chat/completions", """{"model":"gpt-unknown","messages":[{"role":"user","content":"x"}]}""", 404, "model_not_found", "The model `gpt-unknown` does not exist" },
        { "v1/embeddings", """{"model":"text-embedding-3-small"}""", 400, "missing_required_parameter", "'input'" },
        { "v1/embeddings", """{"model":"text-embedding-3-small","input":""}""", 400, "invalid_value", "'input'" },
        { "v1/embeddings", """{"model":"text-embedding-3-small","input":"x","encoding_format":"hex"}""", 400, "invalid_value", "'encoding_format'" },
        { "v1/embeddings", """{"model":"text-embedding-3-small","input":"x","dimensions":5000}""", 400, "invalid_value", "at most 1536" },
        { "v1/responses", """{"model":"gpt-4o"}""", 400, "missing_required_parameter", "'input'" },
        { "v1/responses", """{"model":"gpt-4o","input":"x","stream":true}""", 400, "unsupported_value", "without streaming" },
        { "v1/responses", """{"model":"gpt-4o","input":"x","max_output_tokens":8}""", 400, "integer_below_min_value", ">= 16" },
        { "v1/nothing", """{}""", 404, null, "Invalid URL (POST /v1/nothing)" },
    };

    public static TheoryData<string, int, string, string> AnthropicCases => new()
    {
        // body, status, error.type, a fragment of error.message
        { "{not json", 400, "invalid_request_error", "not valid JSON" },
        { """{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "max_tokens: Field required" },
        { """{"max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "model: Field required" },
        { """{"model":"claude-sonnet-4-5","max_tokens":5}""", 400, "invalid_request_error", "messages: Field required" },
        { """{"model":"claude-sonnet-4-5","max_tokens":0,"messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "greater than or equal to 1" },
        { """{"model":"claude-sonnet-4-5","max_tokens":5,"system":5,"messages":[{"role":"user","content":"x"}]}""", 400, "invalid_request_error", "system" },
        { """{"model":"claude-9","max_tokens":5,"messages":[{"role":"user","content":"x"}]}""", 404, "not_found_error", "model: claude-9" },
    };

    [Theory]
    [MemberData(nameof(OpenAICases))]
    public async Task OpenAI_BadInput_GetsOpenAIsErrorShape(string path, string body, int status, string? code, string? message)
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 60 });

        using var response = await mock.SendAsync(RunningMock.Raw(path, body));
        var error = (await response.JsonAsync()).GetProperty("error");

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").ValueKind == JsonValueKind.Null ? null : error.GetProperty("code").GetString());
        Assert.Contains(message!, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(error.TryGetProperty("param", out _));
        // Refused before the budgets: the headers are there and nothing was charged.
        Assert.Equal("1", response.Header("x-ratelimit-remaining-requests"));
        var stats = mock.Server.GetStats();
        Assert.Equal(0, stats.Accepted);
        Assert.Equal(1, stats.Rejected.Values.Sum());
        Assert.False(stats.Rejected.ContainsKey("mock_error"));
    }

    [Theory]
    [MemberData(nameof(AnthropicCases))]
    public async Task Anthropic_BadInput_GetsAnthropicsErrorShape(string body, int status, string type, string message)
    {
        await using var mock = await RunningMock.StartAsync(o => o.Limits = new MockLimits { RequestsPerMinute = 60 });

        using var response = await mock.SendAsync(RunningMock.Raw("v1/messages", body).WithAnthropicHeaders());
        var json = await response.JsonAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("error", json.GetProperty("type").GetString());
        Assert.Equal(type, json.GetProperty("error").GetProperty("type").GetString());
        Assert.Contains(message, json.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(response.Header("request-id"), json.GetProperty("request_id").GetString());
        Assert.Equal("1", response.Header("anthropic-ratelimit-requests-remaining"));
        Assert.Equal(0, mock.Server.GetStats().Accepted);
    }

    [Fact]
    public async Task Messages_WithoutAnthropicVersion_Gets400()
    {
        await using var mock = await RunningMock.StartAsync();
        var request = RunningMock.Messages();
        request.Headers.Remove("anthropic-version");

        using var response = await mock.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("anthropic-version: header is required", (await response.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task UnknownPath_FromAnAnthropicClient_GetsAnthropicsNotFound()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.SendAsync(RunningMock.Raw("v1/complete.json", "{}").WithAnthropicHeaders());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not_found_error", (await response.JsonAsync()).GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task WrongMethod_GetsInvalidUrl()
    {
        await using var mock = await RunningMock.StartAsync();

        using var response = await mock.Client.GetAsync("v1/chat/completions").Within();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("Invalid URL (GET /v1/chat/completions)", (await response.JsonAsync()).GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task AcceptAnyModel_AcceptsUnknownNames()
    {
        await using var mock = await RunningMock.StartAsync(o => o.AcceptAnyModel = true);

        using var response = await mock.SendAsync(RunningMock.Chat(model: "my-local-llama"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task OversizedBody_Gets413InTheProvidersShape()
    {
        await using var mock = await RunningMock.StartAsync();
        var huge = new StringBuilder().Append("{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"").Append('x', 31 * 1024 * 1024).Append("\"}]}").ToString();

        var request = RunningMock.Raw("v1/chat/completions", huge);
        // The client waits for the server's go-ahead, so it reads the early 413 instead of writing into a closed socket.
        request.Headers.ExpectContinue = true;
        using var response = await mock.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(1, mock.Server.GetStats().Rejected["payload_too_large"]);
    }

    [Fact]
    public async Task AdminEndpoints_RefuseWrongMethodsAndBadBodies()
    {
        await using var mock = await RunningMock.StartAsync();

        using var getReset = await mock.Client.GetAsync("mock/reset").Within();
        using var badLimits = await mock.SendAsync(RunningMock.Raw("mock/limits", "{oops"));
        using var postStats = await mock.SendAsync(RunningMock.Raw("mock/stats", "{}"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, getReset.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badLimits.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, postStats.StatusCode);
        Assert.Equal(0, mock.Server.GetStats().Received);
    }
}
