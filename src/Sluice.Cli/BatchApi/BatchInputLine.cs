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
    /// Tokens as providers' own rule of thumb counts them, about four bytes of text a token, plus the output cap the
    /// body states: the enqueued-token limit is a budget, and an estimate on the high side only makes parts smaller.
    /// </summary>
    public static long EstimateTokens(int bodyBytes, long outputCap = 0) => ((bodyBytes + 3) / 4) + outputCap;

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

        using var document = JsonDocument.Parse(request.Body);
        var root = document.RootElement;
        // A validated body is an object; one without a model goes with the others without one.
        string model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() ?? "" : "";
        long outputCap = 0;
        foreach (string name in (ReadOnlySpan<string>)["max_completion_tokens", "max_tokens", "max_output_tokens"])
        {
            if (root.TryGetProperty(name, out var cap) && cap.TryGetInt64(out long value) && value > 0)
            {
                outputCap = value;
                break;
            }
        }

        return new BatchInputLine(request.CustomId, request.LineNumber, request.Url, model, buffer.WrittenSpan.ToArray(), EstimateTokens(request.Body.Length, outputCap));
    }
}
