using System.Globalization;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Sluice.Cli.Run;

namespace Sluice.Cli.Data;

/// <summary>
/// One pass over a results file that keeps, per custom_id, a 128-bit fingerprint, the byte offset of its line and its
/// ordinal (about 40 bytes a line: 40 MB for a million), never the lines themselves; a custom_id seen twice keeps its
/// last line. The same pass learns what <c>--answers auto</c> needs: how many answers succeeded, how many of them are
/// JSON objects, and those objects' top-level field names.
/// </summary>
internal sealed class ResultsIndex
{
    /// <summary>The most distinct <c>answer.&lt;field&gt;</c> columns: more is not a table, and the list stays bounded.</summary>
    public const int MaxAnswerFields = 500;

    private readonly Dictionary<UInt128, (long Offset, int Ordinal)> _lines = [];
    private readonly List<string> _fields = [];
    private readonly HashSet<string> _fieldSet = new(StringComparer.Ordinal);

    /// <summary>The results lines read, duplicates included: ordinals run from 0 to this.</summary>
    public int Lines { get; private set; }

    public long Duplicates { get; private set; }

    public long Succeeded { get; private set; }

    public long JsonObjects { get; private set; }

    public bool TooManyFields { get; private set; }

    /// <summary>The top-level fields of the answers that are JSON objects, in order of first appearance.</summary>
    public IReadOnlyList<string> AnswerFields => _fields;

    public static async Task<ResultsIndex> BuildAsync(string path, ErrorList errors, CancellationToken cancellationToken)
    {
        var index = new ResultsIndex();
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        await using (stream.ConfigureAwait(false))
        {
            var reader = new BatchLineReader(stream, hash: null);
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                string where = string.Create(CultureInfo.InvariantCulture, $"{path}: line {line.Number}");
                if (line.TooLong)
                {
                    errors.Add($"{where}: longer than {reader.MaxLineBytes:N0} bytes");
                    continue;
                }

                var record = Parse(line.Bytes, out string? problem);
                if (record is null)
                {
                    errors.Add($"{where}: {problem}");
                    continue;
                }

                if (index._lines.ContainsKey(RowId.Fingerprint(record.CustomId)))
                {
                    index.Duplicates++;
                }

                index._lines[RowId.Fingerprint(record.CustomId)] = (line.Offset, index.Lines++);
                if (record.IsOk)
                {
                    index.Succeeded++;
                    if (AnswerObject.Fields(record.Answer) is { } fields)
                    {
                        index.JsonObjects++;
                        index.Learn(fields);
                    }
                }
            }
        }

        return index;
    }

    public static ResultRecord? Parse(ReadOnlyMemory<byte> bytes, out string? problem)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            return ResultRecord.Read(document.RootElement, out problem);
        }
        catch (JsonException exception)
        {
            problem = $"not valid JSON ({exception.Message.Split(" Path:")[0].TrimEnd('.')})";
            return null;
        }
    }

    /// <summary>Where the line of <paramref name="customId"/> is, if there is one.</summary>
    public bool TryFind(string customId, out long offset, out int ordinal)
    {
        bool found = _lines.TryGetValue(RowId.Fingerprint(customId), out var at);
        (offset, ordinal) = at;
        return found;
    }

    /// <summary>One line's bytes, read at its offset: as cheap as a sequential read when the rows come in file order.</summary>
    public static byte[] ReadLineAt(SafeFileHandle file, long offset)
    {
        var line = new MemoryStream();
        Span<byte> chunk = stackalloc byte[16 * 1024];
        while (true)
        {
            int read = RandomAccess.Read(file, chunk, offset);
            if (read == 0)
            {
                return line.ToArray();
            }

            int end = chunk[..read].IndexOfAny((byte)'\n', (byte)'\r');
            if (end >= 0)
            {
                line.Write(chunk[..end]);
                return line.ToArray();
            }

            line.Write(chunk[..read]);
            offset += read;
        }
    }

    private void Learn(IReadOnlyList<DataField> fields)
    {
        foreach (var field in fields)
        {
            if (_fieldSet.Contains(field.Name))
            {
                continue;
            }

            if (_fields.Count == MaxAnswerFields)
            {
                TooManyFields = true;
                return;
            }

            _fieldSet.Add(field.Name);
            _fields.Add(field.Name);
        }
    }
}
