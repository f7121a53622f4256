using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Run;

/// <summary>The last answer a job got: status, the provider's request id and the body.</summary>
internal sealed record ProviderAnswer(int StatusCode, string? RequestId, byte[] Body);

/// <summary>
/// What Sluice adds to a results line, beside the provider's answer and never inside its body: what the request cost
/// at the provider (null when its model has no price; 0 when answered from the cache) and whether the cache answered.
/// </summary>
internal readonly record struct LineMeta(decimal? Cost, bool Cached);

/// <summary>
/// Writes OpenAI Batch API output lines: <c>{"id","custom_id","response":{...},"error":...,"sluice":{...}}</c>. The
/// <c>sluice</c> object is one more top-level field, which readers of Batch API output (the SDKs, pandas) ignore.
/// </summary>
internal static class OutputLine
{
    /// <summary>One output line (no newline). <paramref name="error"/> null means success.</summary>
    public static string Create(string id, string customId, ProviderAnswer? answer, (string Code, string Message)? error, LineMeta? meta = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (answer?.Body.Length ?? 0));
        using (var writer = new Utf8JsonWriter(buffer, ResponseBody.LineOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteString("custom_id", customId);
            if (answer is null)
            {
                writer.WriteNull("response");
            }
            else
            {
                writer.WriteStartObject("response");
                writer.WriteNumber("status_code", answer.StatusCode);
                if (answer.RequestId is null)
                {
                    writer.WriteNull("request_id");
                }
                else
                {
                    writer.WriteString("request_id", answer.RequestId);
                }

                ResponseBody.Write(writer, answer.Body);
                writer.WriteEndObject();
            }

            if (error is { } e)
            {
                writer.WriteStartObject("error");
                writer.WriteString("code", e.Code);
                writer.WriteString("message", e.Message);
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteNull("error");
            }

            if (meta is { } m)
            {
                writer.WriteStartObject("sluice");
                if (m.Cost is { } cost)
                {
                    writer.WriteNumber("cost", Normalized(cost));
                }
                else
                {
                    writer.WriteNull("cost");
                }

                writer.WriteBoolean("cached", m.Cached);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    // Costs carry the scale of the prices they were computed from (0.000123000000): written without trailing zeros.
    private static decimal Normalized(decimal value) => Math.Round(value, 12) / 1.000000000000000000000000000000000m;
}
