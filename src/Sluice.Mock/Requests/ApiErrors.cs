using System.Globalization;
using System.Text.Json;
using Sluice.Mock.Limits;
using Sluice.Text;

namespace Sluice.Mock.Requests;

/// <summary>The providers' error answers, with their status codes, types, codes and wording.</summary>
internal static class ApiErrors
{
    private const string InvalidRequest = "invalid_request_error";

    public static ApiError MalformedJson(Provider provider) => provider == Provider.OpenAI
        ? new(400, InvalidRequest,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            null, null, "invalid_request")
        : new(400, InvalidRequest, "There was an error parsing the body of your request: it is not valid JSON.", null, null, "invalid_request");

    public static ApiError Missing(Provider provider, string field) => provider == Provider.OpenAI
        ? field == "model"
            ? new(400, InvalidRequest, "you must provide a model parameter", null, null, "invalid_request")
            : new(400, InvalidRequest, $"Missing required parameter: '{field}'.", field, "missing_required_parameter", "invalid_request")
        : new(400, InvalidRequest, $"{field}: Field required", null, null, "invalid_request");

    public static ApiError InvalidType(Provider provider, string field, string expected, JsonValueKind actual) => provider == Provider.OpenAI
        ? new(400, InvalidRequest, $"Invalid type for '{field}': expected {expected}, but got {Describe(actual)} instead.", field, "invalid_type", "invalid_request")
        : new(400, InvalidRequest, $"{field}: Input should be {expected}", null, null, "invalid_request");

    public static ApiError InvalidValue(Provider provider, string field, string message) => provider == Provider.OpenAI
        ? new(400, InvalidRequest, $"Invalid '{field}': {message}", field, "invalid_value", "invalid_request")
        : new(400, InvalidRequest, $"{field}: {message}", null, null, "invalid_request");

    public static ApiError EmptyArray(Provider provider, string field) => provider == Provider.OpenAI
        ? new(400, InvalidRequest, $"Invalid '{field}': empty array. Expected an array with minimum length 1, but got an empty array instead.", field, "empty_array", "invalid_request")
        : new(400, InvalidRequest, $"{field}: List should have at least 1 item after validation, not 0", null, null, "invalid_request");

    public static ApiError BelowMinimum(Provider provider, string field, long minimum, long actual) => provider == Provider.OpenAI
        ? new(400, InvalidRequest, $"Invalid '{field}': integer below minimum value. Expected a value >= {minimum}, but got {actual} instead.", field, "integer_below_min_value", "invalid_request")
        : new(400, InvalidRequest, $"{field}: Input should be greater than or equal to {minimum}", null, null, "invalid_request");

    public static ApiError Unsupported(Provider provider, string field, string message) =>
        new(400, InvalidRequest, message, provider == Provider.OpenAI ? field : null, provider == Provider.OpenAI ? "unsupported_value" : null, "invalid_request");

    public static ApiError MissingAnthropicVersion() =>
        new(400, InvalidRequest, "anthropic-version: header is required", null, null, "invalid_request");

    public static ApiError UnknownModel(Provider provider, string model) => provider == Provider.OpenAI
        ? new(404, InvalidRequest, $"The model `{model}` does not exist or you do not have access to it.", null, "model_not_found", "model_not_found")
        : new(404, "not_found_error", $"model: {model}", null, null, "model_not_found");

    public static ApiError NotFound(Provider provider, string method, string path) => provider == Provider.OpenAI
        ? new(404, InvalidRequest, $"Invalid URL ({method} {path})", null, null, "not_found")
        : new(404, "not_found_error", "Not Found", null, null, "not_found");

    public static ApiError PayloadTooLarge(Provider provider) => provider == Provider.OpenAI
        ? new(413, InvalidRequest, "Request body too large.", null, null, "payload_too_large")
        : new(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", null, null, "payload_too_large");

    public static ApiError RateLimited(Provider provider, Admission admission, string model)
    {
        var wait = DurationText.Format(admission.RetryAfter);
        var (openAIType, unit, abbreviation, reason) = admission.Dimension switch
        {
            LimitDimension.Requests => ("requests", "requests", "RPM", "rate_limit_requests"),
            LimitDimension.Tokens => ("tokens", "tokens", "TPM", "rate_limit_tokens"),
            LimitDimension.InputTokens => ("tokens", "input tokens", "ITPM", "rate_limit_input_tokens"),
            _ => ("tokens", "output tokens", "OTPM", "rate_limit_output_tokens"),
        };
        return provider == Provider.OpenAI
            ? new(429, openAIType,
                $"Rate limit reached for {model} in organization org-mock on {unit} per min ({abbreviation}): Limit {admission.Limit}, Requested {admission.Requested}. Please try again in {wait}.",
                null, "rate_limit_exceeded", reason)
            : new(429, "rate_limit_error",
                $"This request would exceed the rate limit for your organization of {admission.Limit.ToString(CultureInfo.InvariantCulture)} {unit} per minute. Please try again in {wait}.",
                null, null, reason);
    }

    public static ApiError TooLarge(Provider provider, Admission admission, string model)
    {
        var unit = admission.Dimension switch
        {
            LimitDimension.InputTokens => "input tokens",
            LimitDimension.OutputTokens => "output tokens",
            _ => "tokens",
        };
        return provider == Provider.OpenAI
            ? new(429, "tokens",
                $"Request too large for {model} in organization org-mock on {unit} per min (TPM): Limit {admission.Limit}, Requested {admission.Requested}. The input or output tokens must be reduced in order to run successfully.",
                null, "rate_limit_exceeded", "request_too_large")
            : new(429, "rate_limit_error",
                $"This request would exceed your organization's rate limit of {admission.Limit} {unit} per minute on its own ({admission.Requested} requested). Reduce the prompt length or the maximum tokens requested.",
                null, null, "request_too_large");
    }

    public static ApiError Concurrency(Provider provider, Admission admission) => provider == Provider.OpenAI
        ? new(429, "requests", $"Too many concurrent requests: at most {admission.Limit} may be in flight at once.", null, "rate_limit_exceeded", "concurrency")
        : new(429, "rate_limit_error", $"Too many concurrent requests: at most {admission.Limit} may be in flight at once.", null, null, "concurrency");

    public static ApiError AuthExpired(Provider provider) => provider == Provider.OpenAI
        ? new(401, InvalidRequest, "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.", null, "invalid_api_key", null)
        : new(401, "authentication_error", "invalid x-api-key", null, null, null);

    public static ApiError InsufficientQuota(Provider provider) => provider == Provider.OpenAI
        ? new(429, "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.", null, "insufficient_quota", null)
        : new(402, "billing_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.", null, null, null);

    public static ApiError ContextLength(Provider provider, long limit, long tokens) => provider == Provider.OpenAI
        ? new(400, InvalidRequest, $"This model's maximum context length is {limit} tokens. However, your messages resulted in {tokens} tokens. Please reduce the length of the messages.", "messages", "context_length_exceeded", null)
        : new(400, InvalidRequest, $"prompt is too long: {tokens} tokens > {limit} maximum", null, null, null);

    public static ApiError InternalServerError(Provider provider) => provider == Provider.OpenAI
        ? new(500, "server_error", "The server had an error while processing your request. Sorry about that!", null, null, null)
        : new(500, "api_error", "Internal server error", null, null, null);

    public static ApiError ServiceUnavailable(Provider provider) => provider == Provider.OpenAI
        ? new(503, "server_error", "The engine is currently overloaded, please try again later.", null, null, null)
        : new(503, "api_error", "Service unavailable", null, null, null);

    public static ApiError Overloaded() => new(529, "overloaded_error", "Overloaded", null, null, null);

    /// <summary>A bug in the mock itself; counted as <c>mock_error</c> so tests notice.</summary>
    public static ApiError MockError(Provider provider) => provider == Provider.OpenAI
        ? new(500, "server_error", "The mock failed while handling this request.", null, null, "mock_error")
        : new(500, "api_error", "The mock failed while handling this request.", null, null, "mock_error");

    public static void Write(Utf8JsonWriter writer, Provider provider, ApiError error, string requestId)
    {
        writer.WriteStartObject();
        if (provider == Provider.OpenAI)
        {
            writer.WriteStartObject("error");
            writer.WriteString("message", error.Message);
            writer.WriteString("type", error.Type);
            WriteNullable(writer, "param", error.Param);
            WriteNullable(writer, "code", error.Code);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteString("type", "error");
            writer.WriteStartObject("error");
            writer.WriteString("type", error.Type);
            writer.WriteString("message", error.Message);
            writer.WriteEndObject();
            writer.WriteString("request_id", requestId);
        }

        writer.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
