using System.Text.Json;
using CsvHelper;
using Sluice.Cli.Run;

namespace Sluice.Cli.Data;

/// <summary>
/// Where export writes its rows: a CSV or TSV file (CsvHelper, RFC 4180: quoted where needed, quotes doubled, line
/// breaks kept inside quotes, CRLF between rows, UTF-8 without a byte-order mark), or JSONL (one object a row, values
/// keeping their JSON kind). Every row has the header's columns in its order.
/// </summary>
internal abstract class ExportTable : IDisposable
{
    public static ExportTable Create(string path, Stream stream)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension is ".jsonl" or ".ndjson" ? new JsonlTable(stream) : new CsvTable(stream, extension is ".tsv" or ".tab" ? '\t' : ',');
    }

    /// <summary>Why <paramref name="path"/> is not a file export can write, or null.</summary>
    public static string? Unsupported(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".csv" or ".tsv" or ".tab" or ".jsonl" or ".ndjson"
            ? null
            : $"--to {path}: name it .csv, .tsv or .jsonl, which says the format";

    public abstract void WriteHeader(IReadOnlyList<string> columns);

    /// <summary>One row: a value per header column, null for an empty cell.</summary>
    public abstract void WriteRow(IReadOnlyList<DataField?> values);

    public abstract void Dispose();

    private sealed class CsvTable(Stream stream, char separator) : ExportTable
    {
        private readonly CsvWriter _writer = CsvWriter.Create(stream, new CsvWriterOptions { Separator = separator, NewLine = "\r\n", WriteByteOrderMark = false, Injection = CsvInjection.None }, leaveOpen: true);

        public override void WriteHeader(IReadOnlyList<string> columns)
        {
            foreach (string column in columns)
            {
                _writer.WriteField(column);
            }

            _writer.EndRecord();
        }

        public override void WriteRow(IReadOnlyList<DataField?> values)
        {
            foreach (var value in values)
            {
                _writer.WriteField(value is { Kind: not JsonValueKind.Null } field ? field.Text : "");
            }

            _writer.EndRecord();
        }

        public override void Dispose()
        {
            _writer.Flush();
            _writer.Dispose();
        }
    }

    private sealed class JsonlTable(Stream stream) : ExportTable
    {
        private readonly Utf8JsonWriter _writer = new(stream, ResponseBody.LineOptions);
        private IReadOnlyList<string> _columns = [];

        public override void WriteHeader(IReadOnlyList<string> columns) => _columns = columns;

        public override void WriteRow(IReadOnlyList<DataField?> values)
        {
            _writer.Reset(stream);
            _writer.WriteStartObject();
            for (int i = 0; i < _columns.Count; i++)
            {
                _writer.WritePropertyName(_columns[i]);
                if (values[i] is not { } value || value.Kind == JsonValueKind.Null)
                {
                    _writer.WriteNullValue();
                }
                else if (value.Kind == JsonValueKind.String)
                {
                    _writer.WriteStringValue(value.Text);
                }
                else
                {
                    _writer.WriteRawValue(value.Text, skipInputValidation: false);
                }
            }

            _writer.WriteEndObject();
            _writer.Flush();
            stream.Write("\n"u8);
        }

        public override void Dispose() => _writer.Dispose();
    }
}
