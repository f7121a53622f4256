using System.Buffers;
using System.Globalization;
using Sluice.Cli.Common;

namespace Sluice.Cli.Data;

/// <summary>
/// <c>sluice prepare</c>, step by step: check the options, then one pass over the data that renders each row and
/// writes its request line to a temporary file beside the output, collecting every problem; renamed into place only
/// when there was none. One row is held at a time; the duplicate-id check keeps a 128-bit fingerprint and a line
/// number per row (about 40 bytes: 40 MB for a million rows).
/// </summary>
internal static class PrepareExecution
{
    private const string Name = "sluice prepare";

    public static async Task<int> ExecuteAsync(PrepareArguments arguments, TextWriter output, TextWriter error, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var format = DataFormats.Resolve(arguments.Data, arguments.DataFormat, out string? problem);
        if (format is not { } dataFormat)
        {
            return await UsageAsync(error, problem!).ConfigureAwait(false);
        }

        if (DataSource.Missing(arguments.Data, dataFormat) is { } missing)
        {
            return await UsageAsync(error, missing).ConfigureAwait(false);
        }

        string templateText = arguments.Template;
        if (templateText.StartsWith('@'))
        {
            string path = templateText[1..];
            if (!File.Exists(path))
            {
                return await UsageAsync(error, $"--template: no such file: {path}").ConfigureAwait(false);
            }

            templateText = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }

        if (string.IsNullOrWhiteSpace(templateText))
        {
            return await UsageAsync(error, "--template is empty; write the prompt, e.g. --template \"Summarise: {{body}}\"").ConfigureAwait(false);
        }

        var template = PromptTemplate.Parse(templateText, timeProvider, out problem);
        if (template is null)
        {
            return await UsageAsync(error, $"--template: {problem}").ConfigureAwait(false);
        }

        OutputSchema? schema = null;
        if (arguments.Schema is { } schemaPath && (schema = OutputSchema.Load(schemaPath, out problem)) is null)
        {
            return await UsageAsync(error, problem!).ConfigureAwait(false);
        }

        string outputPath = arguments.Output ?? DefaultOutput(arguments.Data);
        if (Run.RunPreflight.Unwritable(outputPath, openExisting: true) is { } unwritable)
        {
            return await UsageAsync(error, $"cannot write {outputPath}: {unwritable}").ConfigureAwait(false);
        }

        var shape = new RequestShape(arguments.Format, arguments.Model, arguments.System, arguments.MaxTokens, schema);
        string temporary = outputPath + string.Create(CultureInfo.InvariantCulture, $".{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}.tmp");
        try
        {
            var (rows, errors) = await WriteLinesAsync(arguments.Data, dataFormat, arguments.IdColumn, template, shape, temporary, cancellationToken).ConfigureAwait(false);
            if (errors.Count == 0 && rows == 0)
            {
                errors.Add($"{arguments.Data} has no rows");
            }

            if (errors.Count > 0)
            {
                await errors.WriteAsync(error, Name, arguments.Data).ConfigureAwait(false);
                return ExitCodes.UsageError;
            }

            File.Move(temporary, outputPath, overwrite: true);
            string id = arguments.IdColumn is null ? "a hash of each row" : $"column '{arguments.IdColumn}'";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {rows:N0} requests ({arguments.Format.ToString().ToLowerInvariant()}, {arguments.Model}{(schema is null ? "" : ", structured output")}) written to {outputPath}; custom_id from {id}.")).ConfigureAwait(false);
            string results = Run.RunDefaults.DefaultResultsPath(outputPath);
            string answers = Path.Combine(Path.GetDirectoryName(results) ?? "", Path.GetFileNameWithoutExtension(DefaultOutput(arguments.Data)).Replace(".requests", ".answers", StringComparison.Ordinal) + ".csv");
            string join = $"--join {arguments.Data}{(arguments.IdColumn is null ? "" : $" --id-column {arguments.IdColumn}")}";
            await output.WriteLineAsync($"Next: sluice run {outputPath} --dry-run   (what it would cost; then without --dry-run)").ConfigureAwait(false);
            await output.WriteLineAsync($"Then: sluice export {results} --to {answers} {join}").ConfigureAwait(false);
            return ExitCodes.Success;
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>posts.csv → posts.requests.jsonl beside it (a folder: beside the folder).</summary>
    public static string DefaultOutput(string data)
    {
        string trimmed = Path.TrimEndingDirectorySeparator(data);
        string stem = Directory.Exists(trimmed) ? trimmed : Path.Combine(Path.GetDirectoryName(trimmed) ?? "", Path.GetFileNameWithoutExtension(trimmed));
        return stem + ".requests.jsonl";
    }

    private static async Task<(long Rows, ErrorList Errors)> WriteLinesAsync(string data, DataFormat format, string? idColumn, PromptTemplate template, RequestShape shape, string temporary, CancellationToken cancellationToken)
    {
        var errors = new ErrorList();
        var ids = new Dictionary<UInt128, long>();
        var buffer = new ArrayBufferWriter<byte>(4096);
        // Blank rows are errors only when a row follows: a file's trailing blank lines are not rows.
        var blanks = new List<string>();
        long rows = 0;
        var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.SequentialScan);
        await using (file.ConfigureAwait(false))
        {
            try
            {
                foreach (var row in DataSource.Read(data, format))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (row.Problem is { } rowProblem)
                    {
                        errors.Add($"{row.Location}: {rowProblem}");
                        continue;
                    }

                    if (row.IsEmpty)
                    {
                        blanks.Add(row.Location);
                        continue;
                    }

                    foreach (string blank in blanks)
                    {
                        errors.Add($"{blank}: empty row");
                    }

                    blanks.Clear();
                    string? id = RowId.Of(row, idColumn, out string? idProblem);
                    if (id is null)
                    {
                        errors.Add($"{row.Location}: {idProblem}");
                        continue;
                    }

                    if (!ids.TryAdd(RowId.Fingerprint(id), row.LineNumber))
                    {
                        string first = format == DataFormat.Folder ? "an earlier file" : string.Create(CultureInfo.InvariantCulture, $"line {ids[RowId.Fingerprint(id)]}");
                        errors.Add(idColumn is null
                            ? $"{row.Location}: the same row as {first} (same fields, so the same id {id}); remove the duplicate or give --id-column"
                            : $"{row.Location}: duplicate id {Run.RequestLineCheck.Quote(id)} in '{idColumn}' (first at {first})");
                        continue;
                    }

                    string? prompt = template.Render(row, out var missing);
                    if (prompt is null)
                    {
                        string names = string.Join(", ", missing.Select(m => $"'{m}'"));
                        string has = string.Join(", ", row.Fields.Take(12).Select(f => f.Name)) + (row.Fields.Count > 12 ? ", ..." : "");
                        errors.Add($"{row.Location}: the template names {names}, which this row lacks (its fields: {has})");
                        continue;
                    }

                    rows++;
                    if (errors.Count > 0)
                    {
                        // Nothing will be written: keep checking, stop writing.
                        continue;
                    }

                    buffer.ResetWrittenCount();
                    RequestLineBuilder.Write(buffer, id, prompt, shape);
                    buffer.Write("\n"u8);
                    await file.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (DataFileException exception)
            {
                errors.Add(exception.Message);
            }

            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        return (rows, errors);
    }

    private static async Task<int> UsageAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"{Name}: {TerminalText.Escape(message)}").ConfigureAwait(false);
        return ExitCodes.UsageError;
    }
}
