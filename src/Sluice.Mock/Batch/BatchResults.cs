using System.Text.Encodings.Web;
using System.Text.Json;

namespace Sluice.Mock.Batch;

/// <summary>
/// The result files of an ended batch, as JSONL: OpenAI's output file (lines answered 200) and error file (lines
/// answered otherwise, and lines the window left unfinished, <c>batch_expired</c>), and Anthropic's results.
/// </summary>
internal static class BatchResults
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static bool HasOutput(BatchView view) => view.Succeeded > 0;

    public static bool HasErrors(BatchJob job, BatchView view) =>
        view.Errored > 0 || (view.Phase == BatchPhase.Expired && view.Done < job.Lines.Count);

    /// <summary>The OpenAI output (<paramref name="output"/>) or error file, and how many lines it has.</summary>
    public static (byte[] Content, int Lines) OpenAIFile(BatchJob job, BatchView view, bool output)
    {
        using var buffer = new MemoryStream();
        var lines = 0;
        for (var i = 0; i < view.Done; i++)
        {
            var line = job.Lines[i];
            if (line.Succeeded == output)
            {
                WriteLine(buffer, writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", "batch_" + line.RequestId);
                    writer.WriteString("custom_id", line.CustomId);
                    writer.WriteStartObject("response");
                    writer.WriteNumber("status_code", line.Status);
                    writer.WriteString("request_id", line.RequestId);
                    writer.WritePropertyName("body");
                    writer.WriteRawValue(line.Body, skipInputValidation: true);
                    writer.WriteEndObject();
                    writer.WriteNull("error");
                    writer.WriteEndObject();
                });
                lines++;
            }
        }

        if (!output && view.Phase == BatchPhase.Expired)
        {
            for (var i = view.Done; i < job.Lines.Count; i++)
            {
                var line = job.Lines[i];
                WriteLine(buffer, writer =>
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", "batch_" + line.RequestId);
                    writer.WriteString("custom_id", line.CustomId);
                    writer.WriteNull("response");
                    writer.WriteStartObject("error");
                    writer.WriteString("code", "batch_expired");
                    writer.WriteString("message", "This request could not be executed before the completion window expired.");
                    writer.WriteEndObject();
                    writer.WriteEndObject();
                });
                lines++;
            }
        }

        return (buffer.ToArray(), lines);
    }

    /// <summary>Anthropic's results: one line per request, in the order sent.</summary>
    public static byte[] AnthropicResults(BatchJob job, BatchView view)
    {
        using var buffer = new MemoryStream();
        for (var i = 0; i < job.Lines.Count; i++)
        {
            var line = job.Lines[i];
            var done = i < view.Done;
            WriteLine(buffer, writer =>
            {
                writer.WriteStartObject();
                writer.WriteString("custom_id", line.CustomId);
                writer.WriteStartObject("result");
                if (done && line.Succeeded)
                {
                    writer.WriteString("type", "succeeded");
                    writer.WritePropertyName("message");
                    writer.WriteRawValue(line.Body, skipInputValidation: true);
                }
                else if (done)
                {
                    writer.WriteString("type", "errored");
                    writer.WritePropertyName("error");
                    writer.WriteRawValue(line.Body, skipInputValidation: true);
                }
                else
                {
                    writer.WriteString("type", view.Phase == BatchPhase.Expired ? "expired" : "canceled");
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            });
        }

        return buffer.ToArray();
    }

    private static void WriteLine(MemoryStream buffer, Action<Utf8JsonWriter> write)
    {
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        buffer.WriteByte((byte)'\n');
    }
}
