using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Hosting;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>OpenAI <c>POST /v1/responses</c>, without streaming: <c>input</c> as a string or a list of message items.</summary>
internal sealed class ResponsesEndpoint(MockEngine engine) : IApiEndpoint
{
    // The Responses API refuses smaller output caps.
    private const long MinOutputTokens = 16;

    public Provider Provider => Provider.OpenAI;

    public ApiRequest? Parse(JsonElement body, out ApiError? error)
    {
        var reader = new BodyReader(body, Provider.OpenAI);
        var model = reader.RequiredString("model");
        var maxOutputTokens = reader.OptionalInteger("max_output_tokens", MinOutputTokens);
        if (reader.OptionalBoolean("stream"))
        {
            reader.Fail(ApiErrors.Unsupported(Provider.OpenAI, "stream", "The mock serves /v1/responses without streaming; leave 'stream' unset or false."));
        }

        var customId = reader.CustomId();
        long characters = 0;
        var lastUser = "";
        if (reader.Error is null && body.TryGetProperty("instructions", out var instructions) && instructions.ValueKind == JsonValueKind.String)
        {
            characters += instructions.GetString()!.Length;
        }

        if (reader.Error is null)
        {
            if (!body.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
            {
                reader.Fail(ApiErrors.Missing(Provider.OpenAI, "input"));
            }
            else if (input.ValueKind == JsonValueKind.String)
            {
                lastUser = input.GetString()!;
                characters += lastUser.Length;
            }
            else if (input.ValueKind == JsonValueKind.Array)
            {
                var (itemCharacters, itemUser) = ReadItems(reader, input);
                characters += itemCharacters;
                lastUser = itemUser;
            }
            else
            {
                reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, "input", "a string or an array", input.ValueKind));
            }
        }

        error = reader.Error;
        if (error is not null)
        {
            return null;
        }

        return new ApiRequest
        {
            Provider = Provider.OpenAI,
            Model = model,
            PromptTokens = TokenEstimator.FromCharacters(characters),
            MaxOutputTokens = maxOutputTokens ?? engine.DefaultMaxOutputTokens,
            ReplySeed = lastUser,
            StructuredAnswer = StructuredAnswer(body, lastUser),
            CustomId = customId,
        };
    }

    /// <summary><c>text.format</c>: a <c>json_schema</c> answers JSON that follows it, <c>json_object</c> answers <c>{"reply": …}</c>.</summary>
    private static string? StructuredAnswer(JsonElement body, string prompt)
    {
        if (!body.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.Object ||
            !text.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Object ||
            !format.TryGetProperty("type", out var type))
        {
            return null;
        }

        if (type.ValueEquals("json_object"))
        {
            return SchemaAnswer.JsonObject(prompt);
        }

        return type.ValueEquals("json_schema") && format.TryGetProperty("schema", out var schema)
            ? SchemaAnswer.For(schema, prompt)
            : null;
    }

    public async Task<Usage> WriteAsync(HttpContext http, ApiRequest request, ResponseFlaw flaw, CancellationToken cancellationToken)
    {
        var reply = Reply.To(request.ReplySeed, engine.ReplyTokens, request.MaxOutputTokens);
        if (request.StructuredAnswer is { } json)
        {
            reply = reply with { Text = json };
        }

        var usage = new Usage(request.PromptTokens, reply.Tokens);
        var id = engine.Ids.Response();
        var itemId = engine.Ids.ResponseItem();
        var created = engine.Time.GetUtcNow().ToUnixTimeSeconds();
        await engine.DelayAsync(engine.Latency.PerOutputToken * reply.Tokens, cancellationToken).ConfigureAwait(false);
        await JsonResponse.WriteAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("object", "response");
            writer.WriteNumber("created_at", created);
            writer.WriteString("status", reply.CutByLimit ? "incomplete" : "completed");
            writer.WriteNull("error");
            if (reply.CutByLimit)
            {
                writer.WriteStartObject("incomplete_details");
                writer.WriteString("reason", "max_output_tokens");
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("incomplete_details");
            }

            writer.WriteNumber("max_output_tokens", request.MaxOutputTokens);
            writer.WriteString("model", request.Model);
            writer.WriteStartArray("output");
            writer.WriteStartObject();
            writer.WriteString("type", "message");
            writer.WriteString("id", itemId);
            writer.WriteString("status", reply.CutByLimit ? "incomplete" : "completed");
            writer.WriteString("role", "assistant");
            writer.WriteStartArray("content");
            writer.WriteStartObject();
            writer.WriteString("type", "output_text");
            writer.WriteString("text", reply.Text);
            writer.WriteStartArray("annotations");
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteBoolean("parallel_tool_calls", true);
            writer.WriteStartObject("usage");
            writer.WriteNumber("input_tokens", usage.PromptTokens);
            writer.WriteStartObject("input_tokens_details");
            writer.WriteNumber("cached_tokens", 0);
            writer.WriteEndObject();
            writer.WriteNumber("output_tokens", usage.CompletionTokens);
            writer.WriteStartObject("output_tokens_details");
            writer.WriteNumber("reasoning_tokens", 0);
            writer.WriteEndObject();
            writer.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }, truncate: flaw == ResponseFlaw.Malformed, cancellationToken).ConfigureAwait(false);
        return usage;
    }

    /// <summary>Counts the text of input items: messages with string or part-list content, and tool outputs.</summary>
    private static (long Characters, string LastUser) ReadItems(BodyReader reader, JsonElement items)
    {
        long characters = 0;
        var lastUser = "";
        var index = 0;
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, $"input[{index}]", "an object", item.ValueKind));
                break;
            }

            var text = "";
            if (item.TryGetProperty("content", out var content))
            {
                text = BodyReader.TextOf(content);
                if (text is null)
                {
                    reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, $"input[{index}].content", "a string or an array of content parts", content.ValueKind));
                    break;
                }
            }
            else if (item.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.String)
            {
                text = output.GetString()!;
            }

            characters += text.Length;
            if (item.TryGetProperty("role", out var role) && role.ValueEquals("user"))
            {
                lastUser = text;
            }

            index++;
        }

        return (characters, lastUser);
    }
}
