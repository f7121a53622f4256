using System.Buffers;
using System.Text.Json;
using Sluice.Cli.Run;

namespace Sluice.Cli.Data;

/// <summary>What every prepared line shares: the API, model, system text, output cap and schema.</summary>
internal sealed record RequestShape(BodyFormat Format, string Model, string? System, int? MaxTokens, OutputSchema? Schema)
{
    /// <summary>The output cap an Anthropic line gets when <c>--max-tokens</c> is not given: the API requires one.</summary>
    public const int AnthropicDefaultMaxTokens = 1024;
}

/// <summary>
/// Writes one OpenAI Batch API request line, <c>{"custom_id","method":"POST","url","body"}</c>, for a prompt:
/// <list type="bullet">
/// <item>chat: <c>/v1/chat/completions</c>, <c>messages</c> [system?, user]; a schema is
/// <c>response_format: {type: json_schema, json_schema: {name, schema, strict: true}}</c>.</item>
/// <item>responses: <c>/v1/responses</c>, <c>input</c>, <c>instructions</c> for the system text,
/// <c>max_output_tokens</c>; a schema is <c>text.format: {type: json_schema, name, schema, strict: true}</c>.</item>
/// <item>anthropic: <c>/v1/messages</c>, <c>system</c>, <c>messages</c>, <c>max_tokens</c> (1024 unless given); a
/// schema is a tool of that <c>input_schema</c> and a <c>tool_choice</c> that forces it, Anthropic's documented way to
/// get JSON that follows a schema: the answer is the tool call's input.</item>
/// </list>
/// </summary>
internal static class RequestLineBuilder
{
    public static string UrlOf(BodyFormat format) => format switch
    {
        BodyFormat.Chat => "/v1/chat/completions",
        BodyFormat.Responses => "/v1/responses",
        _ => "/v1/messages",
    };

    /// <summary>The line, without its line break, as UTF-8 written into <paramref name="buffer"/>.</summary>
    public static void Write(IBufferWriter<byte> buffer, string customId, string prompt, RequestShape shape)
    {
        using var writer = new Utf8JsonWriter(buffer, ResponseBody.LineOptions);
        writer.WriteStartObject();
        writer.WriteString("custom_id", customId);
        writer.WriteString("method", "POST");
        writer.WriteString("url", UrlOf(shape.Format));
        writer.WriteStartObject("body");
        writer.WriteString("model", shape.Model);
        switch (shape.Format)
        {
            case BodyFormat.Chat:
                WriteChat(writer, prompt, shape);
                break;
            case BodyFormat.Responses:
                WriteResponses(writer, prompt, shape);
                break;
            default:
                WriteAnthropic(writer, prompt, shape);
                break;
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteChat(Utf8JsonWriter writer, string prompt, RequestShape shape)
    {
        writer.WriteStartArray("messages");
        if (shape.System is { } system)
        {
            Message(writer, "system", system);
        }

        Message(writer, "user", prompt);
        writer.WriteEndArray();
        if (shape.MaxTokens is { } max)
        {
            writer.WriteNumber("max_tokens", max);
        }

        if (shape.Schema is { } schema)
        {
            writer.WriteStartObject("response_format");
            writer.WriteString("type", "json_schema");
            writer.WriteStartObject("json_schema");
            writer.WriteString("name", schema.Name);
            writer.WritePropertyName("schema");
            schema.Schema.WriteTo(writer);
            writer.WriteBoolean("strict", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
    }

    private static void WriteResponses(Utf8JsonWriter writer, string prompt, RequestShape shape)
    {
        if (shape.System is { } system)
        {
            writer.WriteString("instructions", system);
        }

        writer.WriteString("input", prompt);
        if (shape.MaxTokens is { } max)
        {
            writer.WriteNumber("max_output_tokens", max);
        }

        if (shape.Schema is { } schema)
        {
            writer.WriteStartObject("text");
            writer.WriteStartObject("format");
            writer.WriteString("type", "json_schema");
            writer.WriteString("name", schema.Name);
            writer.WritePropertyName("schema");
            schema.Schema.WriteTo(writer);
            writer.WriteBoolean("strict", true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
    }

    private static void WriteAnthropic(Utf8JsonWriter writer, string prompt, RequestShape shape)
    {
        writer.WriteNumber("max_tokens", shape.MaxTokens ?? RequestShape.AnthropicDefaultMaxTokens);
        if (shape.System is { } system)
        {
            writer.WriteString("system", system);
        }

        writer.WriteStartArray("messages");
        Message(writer, "user", prompt);
        writer.WriteEndArray();
        if (shape.Schema is { } schema)
        {
            writer.WriteStartArray("tools");
            writer.WriteStartObject();
            writer.WriteString("name", schema.Name);
            writer.WriteString("description", "Record the answer in this structure.");
            writer.WritePropertyName("input_schema");
            schema.Schema.WriteTo(writer);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteStartObject("tool_choice");
            writer.WriteString("type", "tool");
            writer.WriteString("name", schema.Name);
            writer.WriteEndObject();
        }
    }

    private static void Message(Utf8JsonWriter writer, string role, string content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteString("content", content);
        writer.WriteEndObject();
    }
}
