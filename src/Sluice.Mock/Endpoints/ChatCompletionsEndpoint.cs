using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Hosting;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>OpenAI <c>POST /v1/chat/completions</c>, plain and streamed (<c>"stream": true</c>).</summary>
internal sealed class ChatCompletionsEndpoint(MockEngine engine) : IApiEndpoint
{
    private const string Fingerprint = "fp_mock";

    public Provider Provider => Provider.OpenAI;

    public ApiRequest? Parse(JsonElement body, out ApiError? error)
    {
        var reader = new BodyReader(body, Provider.OpenAI);
        var model = reader.RequiredString("model");
        var messages = reader.RequiredArray("messages");
        var maxCompletionTokens = reader.OptionalInteger("max_completion_tokens", 1);
        var maxTokens = reader.OptionalInteger("max_tokens", 1);
        var choices = reader.OptionalInteger("n", 1, 128);
        var stream = reader.OptionalBoolean("stream");
        var streamOptions = reader.OptionalObject("stream_options");
        var customId = reader.CustomId();
        var (characters, lastUser) = MessageText.Read(reader, messages, "messages");
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
            MaxOutputTokens = maxCompletionTokens ?? maxTokens ?? engine.DefaultMaxOutputTokens,
            Choices = (int)(choices ?? 1),
            Stream = stream,
            IncludeUsage = streamOptions is { } options &&
                           options.TryGetProperty("include_usage", out var includeUsage) &&
                           includeUsage.ValueKind == JsonValueKind.True,
            ReplySeed = lastUser,
            StructuredAnswer = StructuredAnswer(body, lastUser),
            CustomId = customId,
        };
    }

    /// <summary><c>response_format</c>: a <c>json_schema</c> answers JSON that follows it, <c>json_object</c> answers <c>{"reply": …}</c>.</summary>
    private static string? StructuredAnswer(JsonElement body, string prompt)
    {
        if (!body.TryGetProperty("response_format", out var format) || format.ValueKind != JsonValueKind.Object ||
            !format.TryGetProperty("type", out var type))
        {
            return null;
        }

        if (type.ValueEquals("json_object"))
        {
            return SchemaAnswer.JsonObject(prompt);
        }

        return type.ValueEquals("json_schema") &&
               format.TryGetProperty("json_schema", out var jsonSchema) && jsonSchema.ValueKind == JsonValueKind.Object &&
               jsonSchema.TryGetProperty("schema", out var schema)
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

        var usage = new Usage(request.PromptTokens, (long)reply.Tokens * request.Choices);
        var id = engine.Ids.ChatCompletion();
        var created = engine.Time.GetUtcNow().ToUnixTimeSeconds();
        if (!request.Stream)
        {
            await engine.DelayAsync(engine.Latency.PerOutputToken * reply.Tokens, cancellationToken).ConfigureAwait(false);
            await JsonResponse.WriteAsync(
                http, StatusCodes.Status200OK, writer => WriteCompletion(writer, id, created, request, reply, usage),
                truncate: flaw == ResponseFlaw.Malformed, cancellationToken).ConfigureAwait(false);
            return usage;
        }

        var events = new EventStreamWriter(http, cancellationToken);
        await events.StartAsync().ConfigureAwait(false);
        var pieces = reply.Pieces().ToList();
        var flawAt = pieces.Count / 2;
        for (var choice = 0; choice < request.Choices; choice++)
        {
            await events.WriteAsync(null, writer => WriteChunk(writer, id, created, request, choice, "assistant", "", null)).ConfigureAwait(false);
            for (var i = 0; i < pieces.Count; i++)
            {
                await engine.DelayAsync(engine.Latency.PerOutputToken, cancellationToken).ConfigureAwait(false);
                if (choice == 0 && i == flawAt && flaw == ResponseFlaw.StreamCut)
                {
                    return usage;
                }

                var truncate = choice == 0 && i == flawAt && flaw == ResponseFlaw.Malformed;
                await events.WriteAsync(null, writer => WriteChunk(writer, id, created, request, choice, null, pieces[i], null), truncate).ConfigureAwait(false);
            }

            var finishReason = reply.CutByLimit ? "length" : "stop";
            await events.WriteAsync(null, writer => WriteChunk(writer, id, created, request, choice, null, null, finishReason)).ConfigureAwait(false);
        }

        if (request.IncludeUsage)
        {
            await events.WriteAsync(null, writer =>
            {
                WriteChunkStart(writer, id, created, request);
                writer.WriteStartArray("choices");
                writer.WriteEndArray();
                WriteUsage(writer, usage);
                writer.WriteEndObject();
            }).ConfigureAwait(false);
        }

        await events.WriteDoneAsync().ConfigureAwait(false);
        return usage;
    }

    private static void WriteCompletion(Utf8JsonWriter writer, string id, long created, ApiRequest request, Reply reply, Usage usage)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "chat.completion");
        writer.WriteNumber("created", created);
        writer.WriteString("model", request.Model);
        writer.WriteStartArray("choices");
        for (var choice = 0; choice < request.Choices; choice++)
        {
            writer.WriteStartObject();
            writer.WriteNumber("index", choice);
            writer.WriteStartObject("message");
            writer.WriteString("role", "assistant");
            writer.WriteString("content", reply.Text);
            writer.WriteNull("refusal");
            writer.WriteStartArray("annotations");
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteNull("logprobs");
            writer.WriteString("finish_reason", reply.CutByLimit ? "length" : "stop");
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        WriteUsage(writer, usage);
        writer.WriteString("service_tier", "default");
        writer.WriteString("system_fingerprint", Fingerprint);
        writer.WriteEndObject();
    }

    private static void WriteChunkStart(Utf8JsonWriter writer, string id, long created, ApiRequest request)
    {
        writer.WriteStartObject();
        writer.WriteString("id", id);
        writer.WriteString("object", "chat.completion.chunk");
        writer.WriteNumber("created", created);
        writer.WriteString("model", request.Model);
        writer.WriteString("service_tier", "default");
        writer.WriteString("system_fingerprint", Fingerprint);
    }

    private static void WriteChunk(
        Utf8JsonWriter writer, string id, long created, ApiRequest request, int choice, string? role, string? content, string? finishReason)
    {
        WriteChunkStart(writer, id, created, request);
        writer.WriteStartArray("choices");
        writer.WriteStartObject();
        writer.WriteNumber("index", choice);
        writer.WriteStartObject("delta");
        if (role is not null)
        {
            writer.WriteString("role", role);
        }

        if (content is not null)
        {
            writer.WriteString("content", content);
        }

        if (role is not null)
        {
            writer.WriteNull("refusal");
        }

        writer.WriteEndObject();
        writer.WriteNull("logprobs");
        if (finishReason is null)
        {
            writer.WriteNull("finish_reason");
        }
        else
        {
            writer.WriteString("finish_reason", finishReason);
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        if (request.IncludeUsage)
        {
            // With include_usage every chunk but the last carries "usage": null.
            writer.WriteNull("usage");
        }

        writer.WriteEndObject();
    }

    private static void WriteUsage(Utf8JsonWriter writer, Usage usage)
    {
        writer.WriteStartObject("usage");
        writer.WriteNumber("prompt_tokens", usage.PromptTokens);
        writer.WriteNumber("completion_tokens", usage.CompletionTokens);
        writer.WriteNumber("total_tokens", usage.PromptTokens + usage.CompletionTokens);
        writer.WriteStartObject("prompt_tokens_details");
        writer.WriteNumber("cached_tokens", 0);
        writer.WriteNumber("audio_tokens", 0);
        writer.WriteEndObject();
        writer.WriteStartObject("completion_tokens_details");
        writer.WriteNumber("reasoning_tokens", 0);
        writer.WriteNumber("audio_tokens", 0);
        writer.WriteNumber("accepted_prediction_tokens", 0);
        writer.WriteNumber("rejected_prediction_tokens", 0);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
