using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Hosting;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>
/// Anthropic <c>POST /v1/messages</c>, plain and streamed with Anthropic's events: <c>message_start</c>,
/// <c>content_block_start</c>, <c>ping</c>, <c>content_block_delta</c>…, <c>content_block_stop</c>,
/// <c>message_delta</c>, <c>message_stop</c>.
/// </summary>
internal sealed class MessagesEndpoint(MockEngine engine) : IApiEndpoint
{
    public Provider Provider => Provider.Anthropic;

    public ApiRequest? Parse(JsonElement body, out ApiError? error)
    {
        var reader = new BodyReader(body, Provider.Anthropic);
        var model = reader.RequiredString("model");
        var maxTokens = reader.OptionalInteger("max_tokens", 1);
        if (maxTokens is null)
        {
            reader.Fail(ApiErrors.Missing(Provider.Anthropic, "max_tokens"));
        }

        var messages = reader.RequiredArray("messages");
        var stream = reader.OptionalBoolean("stream");
        var customId = reader.CustomId();
        long systemCharacters = 0;
        if (reader.Error is null && body.TryGetProperty("system", out var system))
        {
            var text = BodyReader.TextOf(system);
            if (text is null)
            {
                reader.Fail(ApiErrors.InvalidType(Provider.Anthropic, "system", "a valid string or list of text blocks", system.ValueKind));
            }

            systemCharacters = text?.Length ?? 0;
        }

        var (characters, lastUser) = MessageText.Read(reader, messages, "messages");
        error = reader.Error;
        if (error is not null)
        {
            return null;
        }

        var forced = ForcedTool(body, lastUser);
        return new ApiRequest
        {
            Provider = Provider.Anthropic,
            Model = model,
            PromptTokens = TokenEstimator.FromCharacters(systemCharacters + characters),
            MaxOutputTokens = maxTokens!.Value,
            Stream = stream,
            ReplySeed = lastUser,
            StructuredAnswer = forced?.Answer,
            ToolName = forced?.Name,
            CustomId = customId,
        };
    }

    /// <summary>
    /// <c>tool_choice: {type: "tool", name}</c> with a tool of that name in <c>tools</c>: the answer is that tool's
    /// <c>tool_use</c> with an input made from its <c>input_schema</c>, Anthropic's way to structured output.
    /// </summary>
    private static (string Name, string Answer)? ForcedTool(JsonElement body, string prompt)
    {
        if (!body.TryGetProperty("tool_choice", out var choice) || choice.ValueKind != JsonValueKind.Object ||
            !choice.TryGetProperty("type", out var type) || !type.ValueEquals("tool") ||
            !choice.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String ||
            !body.TryGetProperty("tools", out var tools) || tools.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.ValueKind == JsonValueKind.Object &&
                tool.TryGetProperty("name", out var toolName) && toolName.ValueEquals(name.GetString()) &&
                tool.TryGetProperty("input_schema", out var schema))
            {
                return (name.GetString()!, SchemaAnswer.For(schema, prompt));
            }
        }

        return null;
    }

    public async Task<Usage> WriteAsync(HttpContext http, ApiRequest request, ResponseFlaw flaw, CancellationToken cancellationToken)
    {
        var reply = Reply.To(request.ReplySeed, engine.ReplyTokens, request.MaxOutputTokens);
        var usage = new Usage(request.PromptTokens, reply.Tokens);
        var id = engine.Ids.AnthropicMessage();
        var stopReason = reply.CutByLimit ? "max_tokens" : "end_turn";
        var tool = (ToolUse?)null;
        if (request is { ToolName: { } toolName, StructuredAnswer: { } json })
        {
            // The tool's id comes from the message's, so the id counter (and every later id) is as without a tool.
            tool = new ToolUse("toolu_01" + id["msg_01".Length..], toolName);
            reply = reply with { Text = json };
            stopReason = reply.CutByLimit ? "max_tokens" : "tool_use";
        }

        if (!request.Stream)
        {
            await engine.DelayAsync(engine.Latency.PerOutputToken * reply.Tokens, cancellationToken).ConfigureAwait(false);
            await JsonResponse.WriteAsync(
                http, StatusCodes.Status200OK, writer => WriteMessage(writer, id, request, reply.Text, tool, stopReason, usage),
                truncate: flaw == ResponseFlaw.Malformed, cancellationToken).ConfigureAwait(false);
            return usage;
        }

        var events = new EventStreamWriter(http, cancellationToken);
        await events.StartAsync().ConfigureAwait(false);
        await events.WriteAsync("message_start", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "message_start");
            writer.WritePropertyName("message");
            // The message as it starts: no content yet, and one output token, as Anthropic reports it.
            WriteMessage(writer, id, request, null, null, null, usage with { CompletionTokens = 1 });
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        await events.WriteAsync("content_block_start", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "content_block_start");
            writer.WriteNumber("index", 0);
            writer.WriteStartObject("content_block");
            if (tool is null)
            {
                writer.WriteString("type", "text");
                writer.WriteString("text", "");
            }
            else
            {
                WriteToolUseStart(writer, tool);
                writer.WriteStartObject("input");
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        await events.WriteAsync("ping", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "ping");
            writer.WriteEndObject();
        }).ConfigureAwait(false);

        var pieces = reply.Pieces().ToList();
        var flawAt = pieces.Count / 2;
        for (var i = 0; i < pieces.Count; i++)
        {
            await engine.DelayAsync(engine.Latency.PerOutputToken, cancellationToken).ConfigureAwait(false);
            if (i == flawAt && flaw == ResponseFlaw.StreamCut)
            {
                return usage;
            }

            await events.WriteAsync("content_block_delta", writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("type", "content_block_delta");
                writer.WriteNumber("index", 0);
                writer.WriteStartObject("delta");
                if (tool is null)
                {
                    writer.WriteString("type", "text_delta");
                    writer.WriteString("text", pieces[i]);
                }
                else
                {
                    // A tool's input streams as pieces of its JSON, as Anthropic sends it.
                    writer.WriteString("type", "input_json_delta");
                    writer.WriteString("partial_json", pieces[i]);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }, truncate: i == flawAt && flaw == ResponseFlaw.Malformed).ConfigureAwait(false);
        }

        await events.WriteAsync("content_block_stop", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "content_block_stop");
            writer.WriteNumber("index", 0);
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        await events.WriteAsync("message_delta", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "message_delta");
            writer.WriteStartObject("delta");
            writer.WriteString("stop_reason", stopReason);
            writer.WriteNull("stop_sequence");
            writer.WriteEndObject();
            writer.WriteStartObject("usage");
            writer.WriteNumber("output_tokens", usage.CompletionTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        await events.WriteAsync("message_stop", writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("type", "message_stop");
            writer.WriteEndObject();
        }).ConfigureAwait(false);
        return usage;
    }

    /// <summary>
    /// A message object; with no <paramref name="text"/> it is the empty message that opens a stream. With a
    /// <paramref name="tool"/>, the text is that tool's input, written as a <c>tool_use</c> block.
    /// </summary>
    private static void WriteMessage(Utf8JsonWriter writer, string id, ApiRequest request, string? text, ToolUse? tool, string? stopReason, Usage usage)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("type", "message");
        writer.WriteString("role", "assistant");
        writer.WriteString("model", request.Model);
        writer.WriteStartArray("content");
        if (text is not null && tool is not null)
        {
            writer.WriteStartObject();
            WriteToolUseStart(writer, tool);
            writer.WritePropertyName("input");
            writer.WriteRawValue(text, skipInputValidation: true);
            writer.WriteEndObject();
        }
        else if (text is not null)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "text");
            writer.WriteString("text", text);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        if (stopReason is null)
        {
            writer.WriteNull("stop_reason");
        }
        else
        {
            writer.WriteString("stop_reason", stopReason);
        }

        writer.WriteNull("stop_sequence");
        writer.WriteStartObject("usage");
        writer.WriteNumber("input_tokens", usage.PromptTokens);
        writer.WriteNumber("cache_creation_input_tokens", 0);
        writer.WriteNumber("cache_read_input_tokens", 0);
        writer.WriteNumber("output_tokens", usage.CompletionTokens);
        writer.WriteString("service_tier", "standard");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteToolUseStart(Utf8JsonWriter writer, ToolUse tool)
    {
        writer.WriteString("type", "tool_use");
        writer.WriteString("id", tool.Id);
        writer.WriteString("name", tool.Name);
    }

    /// <summary>The forced tool's block: its id and name.</summary>
    private sealed record ToolUse(string Id, string Name);
}
