using System.Buffers;
using System.Text.Json;
using Sluice.Cli.Run;

namespace Sluice.Cli.BatchApi;

/// <summary>
/// A request as one line of a provider's batch input file (<c>{"custom_id","method":"POST","url","body"}</c>), its
/// model and an estimate of its prompt tokens for the enqueued-token limit.
/// </summary>
internal sealed record BatchInputLine(string CustomId, int LineNumber, string Url, string Model, byte[] Json, long Tokens)
{
    /// <summary>
    /// Prompt tokens as providers' own rule of thumb counts them, about four bytes of text a token: the enqueued-token
    /// limit is a budget, and an estimate on the high side only makes parts a little smaller.
    /// </summary>
    public static long EstimateTokens(int bodyBytes) => (bodyBytes + 3) / 4;

    public static BatchInputLine Of(RequestLine request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + request.CustomId.Length + 64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("custom_id", request.CustomId);
            writer.WriteString("method", "POST");
            writer.WriteString("url", request.Url);
            writer.WritePropertyName("body");
            writer.WriteRawValue(request.Body, skipInputValidation: true);
            writer.WriteEndObject();
        }

        return new BatchInputLine(request.CustomId, request.LineNumber, request.Url, ModelOf(request.Body), buffer.WrittenSpan.ToArray(), EstimateTokens(request.Body.Length));
    }

    // A validated body is an object; one without a model goes with the others without one.
    private static string ModelOf(byte[] body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() ?? "" : "";
    }
}
