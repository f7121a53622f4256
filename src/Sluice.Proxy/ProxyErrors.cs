using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Providers;

namespace Sluice.Proxy;

/// <summary>
/// Answers the proxy makes itself (queue full, wait too long, refused target, no route, body too large, upstream
/// unreachable), in the error format of the upstream's provider so SDKs read them as they would the provider's own.
/// Each carries <c>x-sluice-error</c> naming the reason, so a proxy answer is never mistaken for the provider's.
/// Messages never include a key.
/// </summary>
internal static class ProxyErrors
{
    public static Task WriteAsync(HttpContext context, int status, ProviderKind provider, string reason, string message, TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers["x-sluice-error"] = reason;
        if (retryAfter is { } wait)
        {
            // Whole seconds, rounded up: a client that waits this long finds room, rather than one more 429.
            long seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            response.Headers["retry-after-ms"] = ((long)Math.Max(1, Math.Ceiling(wait.TotalMilliseconds))).ToString(CultureInfo.InvariantCulture);
        }

        byte[] body = provider == ProviderKind.Anthropic
            ? JsonSerializer.SerializeToUtf8Bytes(new AnthropicError("error", new AnthropicErrorDetail(AnthropicType(status), message)))
            : JsonSerializer.SerializeToUtf8Bytes(new OpenAIError(new OpenAIErrorDetail(message, OpenAIType(status), OpenAICode(status, reason))));
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// Client text to quote in a message (a model name, a path), cut to <paramref name="max"/> characters: what a
    /// client sends must not size the proxy's answers or logs.
    /// </summary>
    public static string Quote(string text, int max = 100)
    {
        if (text.Length <= max)
        {
            return text;
        }

        int cut = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return $"{text[..cut]}… ({text.Length} characters)";
    }

    /// <summary>The reason, type and code of a request refused by a spend cap (402): not a 429, which SDKs retry.</summary>
    public const string SpendCapReached = "spend_cap_reached";

    private static string OpenAIType(int status) => status switch
    {
        402 => SpendCapReached,
        429 => "requests",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private static string OpenAICode(int status, string reason) => status switch
    {
        429 => "rate_limit_exceeded",
        401 => "invalid_api_key",
        _ => reason,
    };

    private static string AnthropicType(int status) => status switch
    {
        402 => SpendCapReached,
        429 => "rate_limit_error",
        401 => "authentication_error",
        404 => "not_found_error",
        413 => "request_too_large",
        503 => "overloaded_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    private sealed record OpenAIError([property: System.Text.Json.Serialization.JsonPropertyName("error")] OpenAIErrorDetail Error);

    private sealed record OpenAIErrorDetail(
        [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message,
        [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
        [property: System.Text.Json.Serialization.JsonPropertyName("code")] string Code);

    private sealed record AnthropicError(
        [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
        [property: System.Text.Json.Serialization.JsonPropertyName("error")] AnthropicErrorDetail Error);

    private sealed record AnthropicErrorDetail(
        [property: System.Text.Json.Serialization.JsonPropertyName("type")] string Type,
        [property: System.Text.Json.Serialization.JsonPropertyName("message")] string Message);
}
