using CsCheck;
using Sluice.Dispatch;
using Sluice.Providers;
using static Sluice.Tests.Providers.ProviderBodies;
using static Sluice.Tests.Providers.ProviderTestKit;

namespace Sluice.Tests.Providers;

public sealed class ProviderProfileTests
{
    private const string Json = "application/json";

    /// <summary>One row of DESIGN.md's outcome table, as a provider answers it.</summary>
    public sealed record Row(int Status, string Body, AttemptOutcomeKind Kind, string? Code = null, double? RetryAfterMs = null, params (string Name, string Value)[] Headers);

    // Rows every OpenAI-protocol provider (OpenAI, Azure OpenAI, compatible servers) answers alike.
    private static readonly Dictionary<string, Row> OpenAIRows = new()
    {
        ["200 completion"] = new(200, OpenAIChatCompletion, AttemptOutcomeKind.Success),
        ["200 empty (streamed)"] = new(200, "", AttemptOutcomeKind.Success),
        ["200 truncated"] = new(200, """{"id":"chatcmpl-B9MBs8","object":"chat.compl""", AttemptOutcomeKind.Transient),
        ["200 html"] = new(200, BadGatewayHtml, AttemptOutcomeKind.Transient),
        ["429 TPM, hint only"] = new(429, OpenAITokensPerMinute, AttemptOutcomeKind.Throttled, "rate_limit_exceeded", 2_000),
        ["429 RPM, retry-after"] = new(429, OpenAIRequestsPerMinute, AttemptOutcomeKind.Throttled, "rate_limit_exceeded", 1_000, ("retry-after", "1")),
        ["429 RPM, retry-after-ms"] = new(429, OpenAIRequestsPerMinute, AttemptOutcomeKind.Throttled, "rate_limit_exceeded", 130, ("retry-after", "1"), ("retry-after-ms", "130")),
        ["429 free tier mentions billing"] = new(429, OpenAIFreeTierRateLimit, AttemptOutcomeKind.Throttled, "rate_limit_exceeded", 20_000),
        ["429 no body"] = new(429, "", AttemptOutcomeKind.Throttled, null, 3_000, ("retry-after", "3")),
        ["429 insufficient_quota"] = new(429, OpenAIInsufficientQuota, AttemptOutcomeKind.QuotaExhausted, "insufficient_quota", null, ("retry-after", "20")),
        ["429 request too large"] = new(429, OpenAIRequestTooLarge, AttemptOutcomeKind.Permanent, "rate_limit_exceeded"),
        ["400 billing hard limit"] = new(400, OpenAIBillingHardLimit, AttemptOutcomeKind.QuotaExhausted, "billing_hard_limit_reached"),
        ["401 invalid key"] = new(401, OpenAIInvalidApiKey, AttemptOutcomeKind.AuthFailed, "invalid_api_key"),
        ["403 region"] = new(403, OpenAIUnsupportedRegion, AttemptOutcomeKind.AuthFailed, "unsupported_country_region_territory"),
        ["408 empty"] = new(408, "", AttemptOutcomeKind.Transient),
        ["409 conflict"] = new(409, "", AttemptOutcomeKind.Transient),
        ["500 server error"] = new(500, OpenAIServerError, AttemptOutcomeKind.Transient, "server_error"),
        ["502 html"] = new(502, BadGatewayHtml, AttemptOutcomeKind.Transient),
        ["503 overloaded, retry-after"] = new(503, OpenAIOverloaded, AttemptOutcomeKind.Transient, "server_error", 5_000, ("retry-after", "5")),
        ["504 empty"] = new(504, "", AttemptOutcomeKind.Transient),
        ["400 context length"] = new(400, OpenAIContextLength, AttemptOutcomeKind.Permanent, "context_length_exceeded"),
        ["400 invalid value"] = new(400, OpenAIInvalidValue, AttemptOutcomeKind.Permanent, "integer_below_min_value"),
        ["404 model"] = new(404, OpenAIModelNotFound, AttemptOutcomeKind.Permanent, "model_not_found"),
        ["413 too large"] = new(413, "Request Entity Too Large", AttemptOutcomeKind.Permanent),
        ["422 validation"] = new(422, CompatibleValidationError, AttemptOutcomeKind.Permanent),
        ["405 other 4xx"] = new(405, "", AttemptOutcomeKind.Permanent),
        ["302 redirect"] = new(302, "", AttemptOutcomeKind.Permanent),
    };

    private static readonly Dictionary<string, Row> AzureRows = new()
    {
        ["429 token rate, both headers"] = new(429, AzureTokenRateLimit, AttemptOutcomeKind.Throttled, "429", 5_800, ("retry-after", "6"), ("x-ms-retry-after-ms", "5800")),
        ["429 token rate, no headers"] = new(429, AzureTokenRateLimit, AttemptOutcomeKind.Throttled, "429", 6_000),
        ["400 content filter"] = new(400, AzureContentFilter, AttemptOutcomeKind.Permanent, "content_filter"),
        ["401 access denied"] = new(401, AzureAccessDenied, AttemptOutcomeKind.AuthFailed, "401"),
        ["403 out of quota"] = new(403, AzureOutOfQuota, AttemptOutcomeKind.QuotaExhausted, "403"),
    };

    private static readonly Dictionary<string, Row> AnthropicRows = new()
    {
        ["200 message"] = new(200, AnthropicMessage, AttemptOutcomeKind.Success),
        ["200 empty (streamed)"] = new(200, "", AttemptOutcomeKind.Success),
        ["200 truncated"] = new(200, """{"id":"msg_013Zva2CMHLNnXjNJJKqJ2EF","type":"mess""", AttemptOutcomeKind.Transient),
        ["429 rate limit, retry-after"] = new(429, AnthropicRateLimit, AttemptOutcomeKind.Throttled, "rate_limit_error", 27_000, ("retry-after", "27")),
        ["529 overloaded"] = new(529, AnthropicOverloaded, AttemptOutcomeKind.Throttled, "overloaded_error"),
        ["529 overloaded, retry-after"] = new(529, AnthropicOverloaded, AttemptOutcomeKind.Throttled, "overloaded_error", 10_000, ("retry-after", "10")),
        ["402 billing"] = new(402, AnthropicBilling, AttemptOutcomeKind.QuotaExhausted, "billing_error"),
        ["400 credit balance"] = new(400, AnthropicCreditBalance400, AttemptOutcomeKind.QuotaExhausted, "invalid_request_error"),
        ["400 spend limit"] = new(400, AnthropicSpendLimit, AttemptOutcomeKind.QuotaExhausted, "invalid_request_error"),
        ["401 authentication"] = new(401, AnthropicAuthentication, AttemptOutcomeKind.AuthFailed, "authentication_error"),
        ["403 permission"] = new(403, AnthropicPermission, AttemptOutcomeKind.AuthFailed, "permission_error"),
        ["408 empty"] = new(408, "", AttemptOutcomeKind.Transient),
        ["500 api error"] = new(500, AnthropicApiError, AttemptOutcomeKind.Transient, "api_error"),
        ["502 html"] = new(502, BadGatewayHtml, AttemptOutcomeKind.Transient),
        ["503 retry-after"] = new(503, "", AttemptOutcomeKind.Transient, null, 4_000, ("retry-after", "4")),
        ["504 timeout"] = new(504, AnthropicTimeout, AttemptOutcomeKind.Transient, "timeout_error"),
        ["400 prompt too long"] = new(400, AnthropicPromptTooLong, AttemptOutcomeKind.Permanent, "invalid_request_error"),
        ["404 not found"] = new(404, AnthropicNotFound, AttemptOutcomeKind.Permanent, "not_found_error"),
        ["413 request too large"] = new(413, AnthropicTooLarge, AttemptOutcomeKind.Permanent, "request_too_large"),
        ["422 other 4xx"] = new(422, "", AttemptOutcomeKind.Permanent),
    };

    public static TheoryData<ProviderKind, string> Table()
    {
        var data = new TheoryData<ProviderKind, string>();
        foreach (var kind in new[] { ProviderKind.OpenAI, ProviderKind.AzureOpenAI, ProviderKind.OpenAICompatible })
        {
            foreach (var name in OpenAIRows.Keys)
            {
                data.Add(kind, name);
            }
        }

        foreach (var name in AzureRows.Keys)
        {
            data.Add(ProviderKind.AzureOpenAI, name);
        }

        foreach (var name in AnthropicRows.Keys)
        {
            data.Add(ProviderKind.Anthropic, name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Classify_EveryRowOfTheOutcomeTable_GivesItsClassCodeAndWait(ProviderKind kind, string row)
    {
        var expected = kind switch
        {
            ProviderKind.Anthropic => AnthropicRows[row],
            ProviderKind.AzureOpenAI when AzureRows.TryGetValue(row, out var azure) => azure,
            _ => OpenAIRows[row],
        };

        var result = ProviderProfile.For(kind).Classify(expected.Status, Headers(expected.Headers), Json, Utf8(expected.Body), Now);

        Assert.Equal(expected.Kind, result.Kind);
        Assert.Equal(expected.Code, result.ProviderCode);
        Assert.Equal(expected.RetryAfterMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null, result.RetryAfter);
        if (expected.Kind == AttemptOutcomeKind.Success)
        {
            Assert.Empty(result.Error);
        }
        else
        {
            Assert.StartsWith($"{(expected.Kind == AttemptOutcomeKind.Transient && expected.Status == 200 ? "malformed body" : "HTTP " + expected.Status)}", result.Error);
        }
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI)]
    [InlineData(ProviderKind.AzureOpenAI)]
    [InlineData(ProviderKind.OpenAICompatible)]
    [InlineData(ProviderKind.Anthropic)]
    public void For_GivesTheProfileOfThatKind(ProviderKind kind)
    {
        Assert.Equal(kind, ProviderProfile.For(kind).Kind);
        Assert.Same(ProviderProfile.For(kind), ProviderProfile.For(kind));
    }

    [Fact]
    public void Classify_OpenAIThrottleWithoutRetryAfter_WaitsForTheResetOfTheBudgetItsTypeNames()
    {
        var headers = Headers(
            ("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-remaining-tokens", "1000"), ("x-ratelimit-reset-tokens", "1.2s"));

        var tokens = ProviderProfile.For(ProviderKind.OpenAI).Classify(429, headers, Json, Utf8(OpenAITokensPerMinute), Now);
        var requests = ProviderProfile.For(ProviderKind.OpenAI).Classify(429, headers, Json, Utf8(OpenAIRequestsPerMinute), Now);

        // The reset header wins over the message's "try again in 2s"; each error waits for its own budget.
        Assert.Equal(TimeSpan.FromMilliseconds(1200), tokens.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(120), requests.RetryAfter);
    }

    [Fact]
    public void Classify_AnthropicThrottleWithoutRetryAfter_WaitsForTheExhaustedBudgetsReset()
    {
        var headers = Headers(
            ("anthropic-ratelimit-requests-remaining", "40"), ("anthropic-ratelimit-requests-reset", "2026-01-01T12:00:02Z"),
            ("anthropic-ratelimit-input-tokens-remaining", "0"), ("anthropic-ratelimit-input-tokens-reset", "2026-01-01T12:00:20Z"));

        var result = ProviderProfile.For(ProviderKind.Anthropic).Classify(429, headers, Json, Utf8(AnthropicRateLimit), Now);

        Assert.Equal(AttemptOutcomeKind.Throttled, result.Kind);
        Assert.Equal(TimeSpan.FromSeconds(20), result.RetryAfter);
    }

    [Theory]
    [InlineData("application/octet-stream", "PK\u0003\u0004 a zip", AttemptOutcomeKind.Success)]
    [InlineData("audio/mpeg", "ID3\u0004\u0000 mp3 frames", AttemptOutcomeKind.Success)]
    [InlineData("text/plain", "A transcription of the audio.\n", AttemptOutcomeKind.Success)]
    [InlineData("text/html", "<html><body>Welcome</body></html>", AttemptOutcomeKind.Success)]
    [InlineData("text/event-stream", "data: {\"id\":\"chatcmpl-1\"}\n\ndata: [DONE]\n\n", AttemptOutcomeKind.Success)]
    [InlineData("TEXT/PLAIN", "{\"looks\": \"like json but is text", AttemptOutcomeKind.Success)]
    [InlineData("application/json", "{\"id\":\"chatcmpl-1\",\"object\":\"chat.compl", AttemptOutcomeKind.Transient)]
    [InlineData("Application/JSON", "<html>502</html>", AttemptOutcomeKind.Transient)]
    [InlineData("application/problem+json", "{\"type\":", AttemptOutcomeKind.Transient)]
    [InlineData("application/json", "[{\"embedding\":[0.1]}]\n", AttemptOutcomeKind.Success)]
    [InlineData(null, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.compl", AttemptOutcomeKind.Transient)]
    [InlineData(null, "\uFEFF \r\n[1,", AttemptOutcomeKind.Transient)]
    [InlineData(null, "{\"id\":\"chatcmpl-1\"}\n", AttemptOutcomeKind.Success)]
    [InlineData(null, "ID3\u0004 mp3 frames", AttemptOutcomeKind.Success)]
    [InlineData(null, "<html>hello</html>", AttemptOutcomeKind.Success)]
    public void Classify_2xx_OnlyAJsonAnswerCanBeMalformed(string? mediaType, string body, AttemptOutcomeKind expected)
    {
        foreach (var kind in Enum.GetValues<ProviderKind>())
        {
            var result = ProviderProfile.For(kind).Classify(200, Headers(), mediaType, Utf8(body), Now);

            Assert.Equal(expected, result.Kind);
            Assert.Equal(expected == AttemptOutcomeKind.Success, result.Error.Length == 0);
        }
    }

    [Fact]
    public void Classify_HeadersReadOnceByTheCaller_GiveTheSameVerdictAsTheHeaders()
    {
        var headers = Headers(("x-ratelimit-limit-tokens", "30000"), ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "2s"));
        var profile = ProviderProfile.For(ProviderKind.OpenAI);

        var fromHeaders = profile.Classify(429, headers, Json, Utf8(OpenAITokensPerMinute), Now);
        var fromLimits = profile.Classify(429, RateLimitHeaders.Parse(headers, Now), Json, Utf8(OpenAITokensPerMinute), Now);

        Assert.Equal(fromHeaders, fromLimits);
        Assert.Equal(TimeSpan.FromSeconds(2), fromLimits.RetryAfter);
    }

    [Fact]
    public void Classify_ErrorIsTheProvidersMessageWithKeysRedactedAndNoHeaderValue()
    {
        var headers = Headers(("x-request-id", "req_7f3a9c1d2e"), ("openai-organization", "org-secretive"));

        var result = ProviderProfile.For(ProviderKind.OpenAI).Classify(401, headers, Json, Utf8(OpenAIInvalidApiKey), Now);

        Assert.Contains("Incorrect API key provided: [redacted]. You can find your API key", result.Error);
        Assert.DoesNotContain("sk-", result.Error);
        Assert.DoesNotContain("abcd", result.Error);
        Assert.DoesNotContain("req_7f3a9c1d2e", result.Error);
        Assert.DoesNotContain("org-secretive", result.Error);
    }

    [Fact]
    public void Classify_LongMessage_IsTruncated()
    {
        var body = $$$"""{"error":{"message":"{{{new string('x', 5_000).Replace("xxxxxxxxxx", "xxxxxxxxx ")}}}","type":"server_error"}}""";

        var result = ProviderProfile.For(ProviderKind.OpenAI).Classify(500, Headers(), Json, Utf8(body), Now);

        Assert.InRange(result.Error.Length, 300, 360);
        Assert.EndsWith("…", result.Error);
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI, "data: [DONE]")]
    [InlineData(ProviderKind.OpenAI, "data: [DONE]\n")]
    [InlineData(ProviderKind.OpenAI, "data: [DONE]\r\n")]
    [InlineData(ProviderKind.OpenAI, "data:[DONE]")]
    [InlineData(ProviderKind.OpenAI, "event: response.completed")]
    [InlineData(ProviderKind.OpenAI, "event: response.incomplete")]
    [InlineData(ProviderKind.OpenAI, """data: {"type":"response.completed","sequence_number":42,"response":{"id":"resp_1","status":"completed"}}""")]
    [InlineData(ProviderKind.AzureOpenAI, "data: [DONE]")]
    [InlineData(ProviderKind.OpenAICompatible, "data: [DONE]")]
    [InlineData(ProviderKind.Anthropic, "event: message_stop")]
    [InlineData(ProviderKind.Anthropic, "event: message_stop\r\n")]
    [InlineData(ProviderKind.Anthropic, """data: {"type":"message_stop"}""")]
    public void IsStreamTerminator_RecognisesTheProvidersEnd(ProviderKind kind, string line)
    {
        Assert.True(ProviderProfile.For(kind).IsStreamTerminator(Utf8(line)));
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI, """data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"[DONE]"},"finish_reason":null}]}""")]
    [InlineData(ProviderKind.OpenAI, """data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""")]
    [InlineData(ProviderKind.OpenAI, "event: response.output_text.delta")]
    [InlineData(ProviderKind.OpenAI, "data: [DONE")]
    [InlineData(ProviderKind.OpenAI, ": keep-alive")]
    [InlineData(ProviderKind.OpenAI, "")]
    [InlineData(ProviderKind.Anthropic, "data: [DONE]")]
    [InlineData(ProviderKind.Anthropic, "event: message_delta")]
    [InlineData(ProviderKind.Anthropic, "event: error")]
    [InlineData(ProviderKind.Anthropic, "event: ping")]
    [InlineData(ProviderKind.Anthropic, """data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"message_stop"}}""")]
    [InlineData(ProviderKind.Anthropic, "event: message_stopped")]
    public void IsStreamTerminator_OtherLines_AreNotTheEnd(ProviderKind kind, string line)
    {
        Assert.False(ProviderProfile.For(kind).IsStreamTerminator(Utf8(line)));
    }

    [Fact]
    public void Classify_AnyStatusAndAnyBody_NeverThrows()
    {
        var kinds = Gen.Enum<ProviderKind>();
        var statuses = Gen.OneOf(Gen.Int[0, 999], Gen.Const(200), Gen.Const(429), Gen.Const(400), Gen.Const(529));
        var mediaTypes = Gen.OneOf(Gen.Const((string?)null), Gen.Const<string?>(Json), Gen.Const<string?>("audio/mpeg"), Gen.String.Select(s => (string?)s));
        Gen.Select(kinds, statuses, mediaTypes, AnyBytes).Sample((kind, status, mediaType, body) =>
        {
            var result = ProviderProfile.For(kind).Classify(status, Headers(), mediaType, body, Now);

            Assert.True(Enum.IsDefined(result.Kind));
            Assert.NotNull(result.Error);
            Assert.False(result.RetryAfter < TimeSpan.Zero);
        }, iter: 20_000);
    }

    [Fact]
    public void Classify_WellFormedErrorsWithAnyText_NeverThrow()
    {
        var text = Gen.OneOf(Gen.String, Gen.Const("\\uD800"), Gen.Const("try again in 9999999999h"), Gen.Const("retry after -1 seconds"));
        Gen.Select(Gen.Enum<ProviderKind>(), Gen.Int[400, 599], text, text).Sample((kind, status, message, code) =>
        {
            var body = $$$"""{"error":{"message":{{{System.Text.Json.JsonSerializer.Serialize(message).Replace("\\\\uD800", "\\uD800")}}},"code":{{{System.Text.Json.JsonSerializer.Serialize(code)}}}}}""";

            var result = ProviderProfile.For(kind).Classify(status, Headers(), Json, Utf8(body), Now);

            Assert.NotNull(result.Error);
        }, iter: 5_000);
    }

    [Fact]
    public void IsStreamTerminator_AnyBytes_NeverThrows()
    {
        Gen.Select(Gen.Enum<ProviderKind>(), AnyBytes).Sample((kind, line) => { _ = ProviderProfile.For(kind).IsStreamTerminator(line); }, iter: 10_000);
    }
}
