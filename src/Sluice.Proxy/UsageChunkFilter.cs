using System.Buffers;
using System.Text.Json;

namespace Sluice.Proxy;

/// <summary>
/// Takes out of an OpenAI chat stream the usage-only event (<c>"choices":[]</c> with <c>usage</c>) that Sluice asked
/// for on the client's behalf (<c>stream_options.include_usage</c>, to settle the token budget): a client that did not
/// ask for it may read <c>choices[0]</c> of every event and fail on it. Works line by line across chunks; everything
/// else passes unchanged, and a whole line is written as soon as it is complete.
/// </summary>
internal sealed class UsageChunkFilter
{
    private static readonly byte[] DataPrefix = "data:"u8.ToArray();
    private static readonly byte[] EmptyChoices = "\"choices\":[]"u8.ToArray();

    private readonly List<byte> _partial = [];
    private bool _dropBlankLine;

    /// <summary>Passes the complete lines of <paramref name="chunk"/> (with any held back before) to <paramref name="output"/>.</summary>
    public void Filter(ReadOnlySpan<byte> chunk, IBufferWriter<byte> output)
    {
        while (!chunk.IsEmpty)
        {
            int newline = chunk.IndexOf((byte)'\n');
            if (newline < 0)
            {
                _partial.AddRange(chunk);
                return;
            }

            if (_partial.Count > 0)
            {
                _partial.AddRange(chunk[..(newline + 1)]);
                Emit([.. _partial], output);
                _partial.Clear();
            }
            else
            {
                Emit(chunk[..(newline + 1)], output);
            }

            chunk = chunk[(newline + 1)..];
        }
    }

    /// <summary>Writes a last line that had no line end.</summary>
    public void Complete(IBufferWriter<byte> output)
    {
        if (_partial.Count > 0)
        {
            Emit([.. _partial], output);
            _partial.Clear();
        }
    }

    private void Emit(ReadOnlySpan<byte> line, IBufferWriter<byte> output)
    {
        var content = line.TrimEnd("\r\n"u8);
        if (content.IsEmpty && _dropBlankLine)
        {
            // The blank line that ended the dropped event goes with it.
            _dropBlankLine = false;
            return;
        }

        _dropBlankLine = false;
        if (IsUsageOnly(content))
        {
            _dropBlankLine = true;
            return;
        }

        output.Write(line);
    }

    private static bool IsUsageOnly(ReadOnlySpan<byte> line)
    {
        if (!line.StartsWith(DataPrefix) || line.IndexOf(EmptyChoices) < 0)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(line[DataPrefix.Length..].TrimStart((byte)' '));
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object &&
                root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() == 0 &&
                root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
