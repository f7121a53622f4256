using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Data;

/// <summary>
/// What one results line says, read the same whichever API answered: the answer's text (chat:
/// <c>choices[0].message.content</c>; responses: the <c>output_text</c> parts of its messages; anthropic: its text
/// blocks joined, or the input of the tool it was made to call), usage, and what Sluice added (cost, cached).
/// </summary>
internal sealed record ResultRecord(string CustomId, string Status, string? Answer, string? Error, long? InputTokens, long? OutputTokens, string? Cost, bool? Cached)
{
    public const string Ok = "ok";

    public bool IsOk => Status == Ok;

    /// <summary>The record, or null with why the line is not a results line.</summary>
    public static ResultRecord? Read(JsonElement line, out string? problem)
    {
        problem = null;
        if (line.ValueKind != JsonValueKind.Object || !line.TryGetProperty("custom_id", out var idElement) || idElement.ValueKind != JsonValueKind.String)
        {
            problem = "is not a results line (no custom_id)";
            return null;
        }

        string id = idElement.GetString()!;
        string? cost = null;
        bool? cached = null;
        if (line.TryGetProperty("sluice", out var meta) && meta.ValueKind == JsonValueKind.Object)
        {
            if (meta.TryGetProperty("cost", out var c) && c.ValueKind == JsonValueKind.Number)
            {
                cost = c.GetRawText();
            }

            if (meta.TryGetProperty("cached", out var k) && k.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                cached = k.GetBoolean();
            }
        }

        JsonElement body = default;
        int statusCode = 0;
        if (line.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object)
        {
            if (response.TryGetProperty("status_code", out var code) && code.ValueKind == JsonValueKind.Number)
            {
                statusCode = code.GetInt32();
            }

            response.TryGetProperty("body", out body);
        }

        var (input, output) = Usage(body);
        if (line.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            string errorCode = error.TryGetProperty("code", out var ec) && ec.ValueKind == JsonValueKind.String ? ec.GetString()! : "error";
            string? message = error.TryGetProperty("message", out var em) && em.ValueKind == JsonValueKind.String ? em.GetString() : null;
            return new ResultRecord(id, errorCode, null, message, input, output, cost, cached);
        }

        if (statusCode is < 200 or > 299)
        {
            return new ResultRecord(id, string.Create(CultureInfo.InvariantCulture, $"http_{statusCode}"), null, null, input, output, cost, cached);
        }

        var (status, answer, why) = AnswerOf(body);
        return new ResultRecord(id, status, answer, why, input, output, cost, cached);
    }

    private static (string Status, string? Answer, string? Error) AnswerOf(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return ("no_answer", null, "the response body is not a JSON object");
        }

        // Chat completions.
        if (body.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            if (choices.GetArrayLength() > 0 && choices[0].TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                if (message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                {
                    return (Ok, content.GetString(), null);
                }

                if (message.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String)
                {
                    return ("refused", null, refusal.GetString());
                }
            }

            return ("no_answer", null, "choices[0].message has no content");
        }

        // Anthropic Messages: text blocks, or the forced tool's input (structured output).
        if (body.TryGetProperty("content", out var blocks) && blocks.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            bool any = false;
            foreach (var block in blocks.EnumerateArray())
            {
                string? type = block.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (type == "tool_use" && block.TryGetProperty("input", out var input))
                {
                    return (Ok, input.GetRawText(), null);
                }

                if (type == "text" && block.TryGetProperty("text", out var part) && part.ValueKind == JsonValueKind.String)
                {
                    text.Append(part.GetString());
                    any = true;
                }
            }

            return any ? (Ok, text.ToString(), null) : ("no_answer", null, "the message has no text block");
        }

        // Responses: output_text parts of the output's messages.
        if (body.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array)
        {
            var text = new StringBuilder();
            bool any = false;
            foreach (var item in output.EnumerateArray())
            {
                if (!item.TryGetProperty("content", out var parts) || parts.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var part in parts.EnumerateArray())
                {
                    string? type = part.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                    if (type == "output_text" && part.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String)
                    {
                        text.Append(value.GetString());
                        any = true;
                    }
                    else if (type == "refusal" && part.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String)
                    {
                        return ("refused", null, refusal.GetString());
                    }
                }
            }

            return any ? (Ok, text.ToString(), null) : ("no_answer", null, "the response has no output_text");
        }

        return ("no_answer", null, "the body is not a chat completion, a response or a message");
    }

    // Chat names them prompt_tokens and completion_tokens; Responses and Anthropic input_tokens and output_tokens.
    private static (long? Input, long? Output) Usage(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        return (Number(usage, "prompt_tokens") ?? Number(usage, "input_tokens"), Number(usage, "completion_tokens") ?? Number(usage, "output_tokens"));
    }

    private static long? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number) ? number : null;
}
