using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Run;

/// <summary>The last answer a job got: status, the provider's request id and the body.</summary>
internal sealed record ProviderAnswer(int StatusCode, string? RequestId, byte[] Body);

/// <summary>Writes OpenAI Batch API output lines: <c>{"id","custom_id","response":{...},"error":...}</c>.</summary>
internal static class OutputLine
{
    /// <summary>One output line (no newline). <paramref name="error"/> null means success.</summary>
    public static string Create(string id, string customId, ProviderAnswer? answer, (string Code, string Message)? error)
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

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
