using System.Text.Json;
using Sluice.Engine;

namespace Sluice.Cli.Run;

/// <summary>
/// Starts loading the tokenizer the batch's first request needs, on the thread pool, so that it loads while the file
/// is validated, the journal opened and the mock started, instead of after them, in front of the first send. Loading
/// a vocabulary is the largest single cost of starting a small run (docs/benchmarks.md, "Whole-command time").
/// Estimates are unchanged: the first one waits for the same shared tokenizer if it is not ready yet.
/// </summary>
internal static class TokenizerWarmUp
{
    public static void Start(string inputPath) => SluiceEngine.WarmUpTokenizer(FirstModel(inputPath));

    /// <summary>The <c>body.model</c> of the file's first non-blank line; null when there is none or the line is not valid.</summary>
    internal static string? FirstModel(string inputPath)
    {
        try
        {
            using var reader = new StreamReader(inputPath);
            while (reader.ReadLine() is { } line)
            {
                if (string.IsNullOrWhiteSpace(line))
                {
                    continue;
                }

                using var document = JsonDocument.Parse(line);
                return document.RootElement.ValueKind == JsonValueKind.Object
                    && document.RootElement.TryGetProperty("body", out var body)
                    && body.ValueKind == JsonValueKind.Object
                    && body.TryGetProperty("model", out var model)
                    && model.ValueKind == JsonValueKind.String
                        ? model.GetString()
                        : null;
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or JsonException)
        {
            // Validation reports the file's problems; warming up is only a head start.
        }

        return null;
    }
}
