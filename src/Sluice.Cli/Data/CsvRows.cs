using System.Globalization;
using CsvHelper;

namespace Sluice.Cli.Data;

/// <summary>
/// Rows of a CSV or TSV file with a header, read with CsvHelper (RFC 4180: quoted fields, doubled quotes, line breaks
/// inside quotes, a UTF-8 byte-order mark skipped). A row's line number is the line it starts on. A row with a
/// different number of fields than the header is a row problem; malformed quoting stops the read with its line.
/// </summary>
internal static class CsvRows
{
    public static IEnumerable<DataRow> Read(string path, char separator)
    {
        var options = new CsvReaderOptions
        {
            Separator = separator,
            HasHeader = true,
            SkipEmptyLines = false,
            TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
            MalformedData = CsvMalformedDataHandling.Throw,
            TrimWhitespace = false,
        };
        using var reader = CsvReader.FromFile(path, options, FileOptions.SequentialScan);
        string[] header;
        try
        {
            reader.ReadHeader();
            header = [.. reader.Headers];
        }
        catch (CsvFormatException exception)
        {
            throw new DataFileException(Describe(exception));
        }

        CheckHeader(header);
        while (true)
        {
            bool read;
            try
            {
                read = reader.Read();
            }
            catch (CsvFormatException exception)
            {
                throw new DataFileException(Describe(exception));
            }

            if (!read)
            {
                yield break;
            }

            long line = reader.LineNumber;
            string location = string.Create(CultureInfo.InvariantCulture, $"line {line}");
            int count = reader.FieldCount;
            if (count == 1 && reader.GetString(0).Length == 0)
            {
                // A blank line: an empty row, which the caller judges (an error, unless only blank lines follow).
                yield return new DataRow(line, location, []);
                continue;
            }

            if (count != header.Length)
            {
                yield return new DataRow(line, location, [], string.Create(CultureInfo.InvariantCulture, $"has {count} fields; the header has {header.Length}"));
                continue;
            }

            var fields = new DataField[count];
            for (int i = 0; i < count; i++)
            {
                fields[i] = new DataField(header[i], reader.GetString(i));
            }

            yield return new DataRow(line, location, fields);
        }
    }

    private static void CheckHeader(string[] header)
    {
        if (header.Length == 0 || (header.Length == 1 && header[0].Length == 0))
        {
            throw new DataFileException("line 1: no header; the first line must name the columns");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++)
        {
            if (header[i].Length == 0)
            {
                throw new DataFileException(string.Create(CultureInfo.InvariantCulture, $"line 1: column {i + 1} of the header has no name"));
            }

            if (!seen.Add(header[i]))
            {
                throw new DataFileException($"line 1: the header names the column '{header[i]}' twice");
            }
        }
    }

    // CsvHelper's message already says the record, line and byte offset; the reason is what the user needs.
    private static string Describe(CsvFormatException exception) =>
        exception.LineNumber > 0
            ? string.Create(CultureInfo.InvariantCulture, $"line {exception.LineNumber}: {exception.Message}")
            : exception.Message;
}
