using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Sluice.Cli.Data;

/// <summary>
/// Rows of a JSONL file: one JSON object a line, its top-level fields the row's fields. A blank line is an empty
/// row; a line that is not a JSON object is a row problem, so every bad line is named in one pass.
/// </summary>
internal static class JsonlRows
{
    public static IEnumerable<DataRow> Read(string path)
    {
        using var reader = new StreamReader(path, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true);
        long line = 0;
        while (ReadLine(reader, line + 1) is { } text)
        {
            line++;
            string location = string.Create(CultureInfo.InvariantCulture, $"line {line}");
            if (string.IsNullOrWhiteSpace(text))
            {
                yield return new DataRow(line, location, []);
                continue;
            }

            yield return Parse(line, location, text);
        }
    }

    private static string? ReadLine(StreamReader reader, long line)
    {
        try
        {
            return reader.ReadLine();
        }
        catch (DecoderFallbackException)
        {
            throw new DataFileException(string.Create(CultureInfo.InvariantCulture, $"line {line}: not valid UTF-8"));
        }
    }

    public static DataRow Parse(long line, string location, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new DataRow(line, location, [], "is not a JSON object");
            }

            var fields = new List<DataField>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    return new DataRow(line, location, [], $"names the field '{property.Name}' twice");
                }

                var value = property.Value;
                fields.Add(value.ValueKind == JsonValueKind.String
                    ? new DataField(property.Name, value.GetString()!)
                    : new DataField(property.Name, value.GetRawText(), value.ValueKind));
            }

            return new DataRow(line, location, fields);
        }
        catch (JsonException exception)
        {
            return new DataRow(line, location, [], $"is not valid JSON ({exception.Message.Split(" Path:")[0].TrimEnd('.')})");
        }
        catch (InvalidOperationException)
        {
            return new DataRow(line, location, [], "holds a string that is not valid Unicode (a lone surrogate escape)");
        }
    }
}
