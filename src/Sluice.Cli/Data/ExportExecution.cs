using System.Collections;
using System.Globalization;
using Sluice.Cli.Common;

namespace Sluice.Cli.Data;

/// <summary>
/// <c>sluice export</c>, step by step: index the results file (<see cref="ResultsIndex"/>: a fingerprint, offset and
/// ordinal per custom_id, never the lines); with <c>--join</c>, read the data once for its column names; then write one
/// row per data row (its result read at its offset, or status <c>missing</c>), then any result no row claimed — or,
/// without <c>--join</c>, one row per custom_id in file order. Written to a temporary file and renamed into place.
/// Since <c>sluice run</c> writes results in input order, the reads at offsets go through the file front to back.
/// </summary>
internal static class ExportExecution
{
    private const string Name = "sluice export";
    private const string Missing = "missing";

    public static async Task<int> ExecuteAsync(ExportArguments arguments, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!File.Exists(arguments.Results))
        {
            return await UsageAsync(error, $"no such file: {arguments.Results}").ConfigureAwait(false);
        }

        if (ExportTable.Unsupported(arguments.To) is { } unsupported)
        {
            return await UsageAsync(error, unsupported).ConfigureAwait(false);
        }

        if (Run.RunPreflight.Unwritable(arguments.To, openExisting: true) is { } unwritable)
        {
            return await UsageAsync(error, $"cannot write {arguments.To}: {unwritable}").ConfigureAwait(false);
        }

        DataFormat? joinFormat = null;
        if (arguments.Join is { } join)
        {
            joinFormat = DataFormats.Resolve(join, arguments.DataFormat, out string? problem);
            if (joinFormat is null)
            {
                return await UsageAsync(error, $"--join: {problem}").ConfigureAwait(false);
            }

            if (DataSource.Missing(join, joinFormat.Value) is { } missing)
            {
                return await UsageAsync(error, $"--join: {missing}").ConfigureAwait(false);
            }
        }
        else if (arguments.IdColumn is not null)
        {
            return await UsageAsync(error, "--id-column goes with --join: it says how the data's rows were given their custom_id").ConfigureAwait(false);
        }

        var errors = new ErrorList();
        var index = await ResultsIndex.BuildAsync(arguments.Results, errors, cancellationToken).ConfigureAwait(false);
        List<string> dataColumns = [];
        if (errors.Count == 0 && arguments.Join is { } data)
        {
            dataColumns = DataColumns(data, joinFormat!.Value, errors);
        }

        if (errors.Count > 0)
        {
            await errors.WriteAsync(error, Name, arguments.Join is null ? arguments.Results : $"{arguments.Results} and {arguments.Join}").ConfigureAwait(false);
            return ExitCodes.UsageError;
        }

        bool structured = arguments.Answers == AnswerMode.Json || (arguments.Answers == AnswerMode.Auto && index.Succeeded > 0 && index.JsonObjects * 2 > index.Succeeded);
        if (structured && index.TooManyFields)
        {
            return await UsageAsync(error, $"the answers' JSON objects have more than {ResultsIndex.MaxAnswerFields} distinct fields, too many columns; use --answers text").ConfigureAwait(false);
        }

        var columns = new ExportColumns(dataColumns, structured ? index.AnswerFields : null);
        var statuses = new SortedDictionary<string, long>(StringComparer.Ordinal);
        string temporary = arguments.To + string.Create(CultureInfo.InvariantCulture, $".{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.tmp");
        long rows = 0;
        long extra = 0;
        try
        {
            using (var results = File.OpenHandle(arguments.Results, FileMode.Open, FileAccess.Read, FileShare.Read))
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            using (var table = ExportTable.Create(arguments.To, stream))
            {
                table.WriteHeader(columns.Names);
                void Write(DataField?[] values)
                {
                    table.WriteRow(values);
                    rows++;
                    string status = values[dataColumns.Count + 1]!.Value.Text;
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                }

                var used = new BitArray(index.Lines);
                if (arguments.Join is { } joinPath)
                {
                    foreach (var row in DataSource.Read(joinPath, joinFormat!.Value))
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (row.Problem is not null || row.IsEmpty)
                        {
                            // prepare refused these rows (or, blank, skipped them): no request was made from them.
                            continue;
                        }

                        string? id = RowId.Of(row, arguments.IdColumn, out string? idProblem);
                        if (id is null)
                        {
                            Write(columns.Row(row, "", null, "no_id", $"{row.Location} {idProblem}"));
                            continue;
                        }

                        ResultRecord? result = null;
                        if (index.TryFind(id, out long offset, out int ordinal))
                        {
                            result = ResultsIndex.Parse(ResultsIndex.ReadLineAt(results, offset), out _);
                            used[ordinal] = true;
                        }

                        Write(columns.Row(row, id, result, Missing, result is null ? "no result for this row in " + arguments.Results : null));
                    }
                }

                // Without --join every result; with it, the results no data row claimed, after the rows.
                var stream2 = new FileStream(arguments.Results, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                await using (stream2.ConfigureAwait(false))
                {
                    var reader = new Run.BatchLineReader(stream2, hash: null);
                    while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                    {
                        if (line.Length == 0 || ResultsIndex.Parse(line.Bytes, out _) is not { } result
                            || !index.TryFind(result.CustomId, out long offset, out int ordinal) || offset != line.Offset || used[ordinal])
                        {
                            continue;
                        }

                        extra += arguments.Join is null ? 0 : 1;
                        Write(columns.Row(null, result.CustomId, result, Missing));
                    }
                }
            }

            File.Move(temporary, arguments.To, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        string counts = string.Join(", ", statuses.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Value:N0} {s.Key}")));
        string answers = structured ? $"structured answers in {index.AnswerFields.Count} answer.<field> columns" : "answers as text";
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{Name}: {rows:N0} rows written to {arguments.To} ({counts}); {answers}.")).ConfigureAwait(false);
        if (extra > 0)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{Name}: {extra:N0} results matched no row of {arguments.Join} (another data file, or rows changed since prepare); written last, without data columns.")).ConfigureAwait(false);
        }

        if (index.Duplicates > 0)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{Name}: {index.Duplicates:N0} custom_ids appeared more than once in {arguments.Results}; the last line of each was used.")).ConfigureAwait(false);
        }

        if (columns.Renamed.Count > 0)
        {
            await output.WriteLineAsync($"{Name}: the data has columns named {string.Join(", ", columns.Renamed)}; the result's are written sluice.<name>.").ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    // Every column name the data has, in order of first appearance (JSONL rows may differ).
    private static List<string> DataColumns(string path, DataFormat format, ErrorList errors)
    {
        var names = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var row in DataSource.Read(path, format))
            {
                foreach (var field in row.Fields)
                {
                    if (seen.Add(field.Name))
                    {
                        names.Add(field.Name);
                    }
                }

                if (format != DataFormat.Jsonl && names.Count > 0)
                {
                    // A table's rows all have the header's columns.
                    break;
                }
            }
        }
        catch (DataFileException exception)
        {
            errors.Add($"--join {path}: {exception.Message}");
        }

        return names;
    }

    private static async Task<int> UsageAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"{Name}: {TerminalText.Escape(message)}").ConfigureAwait(false);
        return ExitCodes.UsageError;
    }
}
