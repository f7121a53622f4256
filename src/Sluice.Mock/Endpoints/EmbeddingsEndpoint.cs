using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Mock.Content;
using Sluice.Mock.Requests;

namespace Sluice.Mock.Endpoints;

/// <summary>
/// OpenAI <c>POST /v1/embeddings</c>: <c>input</c> as a string, an array of strings, an array of token ids or
/// an array of such arrays; unit vectors made from each input's hash.
/// </summary>
internal sealed class EmbeddingsEndpoint : IApiEndpoint
{
    private const int MaxInputs = 2048;

    public Provider Provider => Provider.OpenAI;

    public ApiRequest? Parse(JsonElement body, out ApiError? error)
    {
        var reader = new BodyReader(body, Provider.OpenAI);
        var model = reader.RequiredString("model");
        var dimensions = reader.OptionalInteger("dimensions", 1);
        var customId = reader.CustomId();
        var base64 = false;
        if (reader.Error is null && body.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            if (format.ValueKind != JsonValueKind.String || !(format.ValueEquals("float") || format.ValueEquals("base64")))
            {
                reader.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "encoding_format", "expected 'float' or 'base64'."));
            }

            base64 = format.ValueKind == JsonValueKind.String && format.ValueEquals("base64");
        }

        var inputs = reader.Error is null ? ReadInputs(body, reader) : [];
        if (reader.Error is null && dimensions > ModelCatalog.EmbeddingDimensions(model))
        {
            reader.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "dimensions", $"this model supports at most {ModelCatalog.EmbeddingDimensions(model)} dimensions."));
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
            PromptTokens = inputs.Sum(input => input.Tokens),
            MaxOutputTokens = 0,
            EmbeddingInputs = inputs,
            Dimensions = (int?)dimensions,
            Base64 = base64,
            CustomId = customId,
        };
    }

    public async Task<Usage> WriteAsync(HttpContext http, ApiRequest request, ResponseFlaw flaw, CancellationToken cancellationToken)
    {
        var usage = new Usage(request.PromptTokens, 0);
        var dimensions = request.Dimensions ?? ModelCatalog.EmbeddingDimensions(request.Model);
        await JsonResponse.WriteAsync(http, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("object", "list");
            writer.WriteStartArray("data");
            for (var i = 0; i < request.EmbeddingInputs.Count; i++)
            {
                var vector = EmbeddingVector.For(request.EmbeddingInputs[i].Text, dimensions);
                writer.WriteStartObject();
                writer.WriteString("object", "embedding");
                writer.WriteNumber("index", i);
                if (request.Base64)
                {
                    writer.WriteString("embedding", Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan())));
                }
                else
                {
                    writer.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        writer.WriteNumberValue(value);
                    }

                    writer.WriteEndArray();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteString("model", request.Model);
            writer.WriteStartObject("usage");
            writer.WriteNumber("prompt_tokens", usage.PromptTokens);
            writer.WriteNumber("total_tokens", usage.PromptTokens);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }, truncate: flaw == ResponseFlaw.Malformed, cancellationToken).ConfigureAwait(false);
        return usage;
    }

    private static List<(string Text, long Tokens)> ReadInputs(JsonElement body, BodyReader reader)
    {
        var inputs = new List<(string Text, long Tokens)>();
        if (!body.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            reader.Fail(ApiErrors.Missing(Provider.OpenAI, "input"));
            return inputs;
        }

        if (input.ValueKind == JsonValueKind.String)
        {
            AddText(input, reader, inputs);
            return inputs;
        }

        if (input.ValueKind != JsonValueKind.Array)
        {
            reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, "input", "a string or an array", input.ValueKind));
            return inputs;
        }

        if (input.GetArrayLength() == 0)
        {
            reader.Fail(ApiErrors.EmptyArray(Provider.OpenAI, "input"));
            return inputs;
        }

        // An array of numbers is one input given as token ids; otherwise each element is one input.
        if (input[0].ValueKind == JsonValueKind.Number)
        {
            AddTokenIds(input, reader, inputs);
            return inputs;
        }

        if (input.GetArrayLength() > MaxInputs)
        {
            reader.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "input", $"array too long. Expected an array with maximum length {MaxInputs}, but got an array with length {input.GetArrayLength()} instead."));
            return inputs;
        }

        foreach (var element in input.EnumerateArray())
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.String:
                    AddText(element, reader, inputs);
                    break;
                case JsonValueKind.Array:
                    AddTokenIds(element, reader, inputs);
                    break;
                default:
                    reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, "input", "strings or arrays of token ids", element.ValueKind));
                    break;
            }

            if (reader.Error is not null)
            {
                break;
            }
        }

        return inputs;
    }

    private static void AddText(JsonElement element, BodyReader reader, List<(string Text, long Tokens)> inputs)
    {
        var text = element.GetString()!;
        if (text.Length == 0)
        {
            reader.Fail(ApiErrors.InvalidValue(Provider.OpenAI, "input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."));
            return;
        }

        inputs.Add((text, TokenEstimator.FromCharacters(text.Length)));
    }

    private static void AddTokenIds(JsonElement array, BodyReader reader, List<(string Text, long Tokens)> inputs)
    {
        var ids = new List<string>();
        foreach (var id in array.EnumerateArray())
        {
            if (id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out var value))
            {
                reader.Fail(ApiErrors.InvalidType(Provider.OpenAI, "input", "token ids (integers)", id.ValueKind));
                return;
            }

            ids.Add(value.ToString(CultureInfo.InvariantCulture));
        }

        if (ids.Count == 0)
        {
            reader.Fail(ApiErrors.EmptyArray(Provider.OpenAI, "input"));
            return;
        }

        inputs.Add((string.Join(',', ids), ids.Count));
    }
}
