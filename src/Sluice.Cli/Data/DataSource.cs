namespace Sluice.Cli.Data;

/// <summary>
/// Reads a data source row by row, whatever its format, holding one row at a time: <c>sluice prepare</c> and
/// <c>sluice export --join</c> read it alike, so both give a row the same id.
/// </summary>
internal static class DataSource
{
    /// <summary>The rows, in order. Throws <see cref="DataFileException"/> where the file cannot be read on.</summary>
    public static IEnumerable<DataRow> Read(string path, DataFormat format) => format switch
    {
        DataFormat.Csv => CsvRows.Read(path, ','),
        DataFormat.Tsv => CsvRows.Read(path, '\t'),
        DataFormat.Jsonl => JsonlRows.Read(path),
        _ => FolderRows.Read(path),
    };

    /// <summary>Why the source cannot be opened, or null.</summary>
    public static string? Missing(string path, DataFormat format) => format switch
    {
        DataFormat.Folder when !Directory.Exists(path) => $"no such folder: {path}",
        not DataFormat.Folder when Directory.Exists(path) => $"{path} is a folder; give --data-format folder, or a file",
        not DataFormat.Folder when !File.Exists(path) => $"no such file: {path}",
        _ => null,
    };
}
