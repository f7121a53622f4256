namespace Sluice.Cli.Data;

/// <summary>What a data file holds: a table with a header, JSON objects a line, or a folder of text files.</summary>
internal enum DataFormat
{
    /// <summary>Comma-separated values with a header line (RFC 4180 quoting, line breaks inside quotes).</summary>
    Csv,

    /// <summary>Tab-separated values with a header line, quoted as CSV is.</summary>
    Tsv,

    /// <summary>One JSON object a line.</summary>
    Jsonl,

    /// <summary>A folder of .txt and .md files: fields <c>name</c>, <c>file</c> and <c>text</c>.</summary>
    Folder,
}

/// <summary>Names a data source's format from <c>--data-format</c> or, without it, from the path.</summary>
internal static class DataFormats
{
    public const string Names = "csv, tsv, jsonl or folder";

    /// <summary>The format given, or the one the path implies; null with a reason when neither says.</summary>
    public static DataFormat? Resolve(string path, string? given, out string? problem)
    {
        problem = null;
        if (given is not null)
        {
            switch (given.ToLowerInvariant())
            {
                case "csv":
                    return DataFormat.Csv;
                case "tsv":
                    return DataFormat.Tsv;
                case "jsonl":
                case "ndjson":
                    return DataFormat.Jsonl;
                case "folder":
                    return DataFormat.Folder;
                default:
                    problem = $"--data-format must be {Names}, not '{given}'";
                    return null;
            }
        }

        if (Directory.Exists(path))
        {
            return DataFormat.Folder;
        }

        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".csv":
                return DataFormat.Csv;
            case ".tsv":
            case ".tab":
                return DataFormat.Tsv;
            case ".jsonl":
            case ".ndjson":
                return DataFormat.Jsonl;
            default:
                problem = $"cannot tell the format of {path} from its extension; name it .csv, .tsv or .jsonl, or give --data-format {Names.Replace(", ", "|", StringComparison.Ordinal).Replace(" or ", "|", StringComparison.Ordinal)}";
                return null;
        }
    }
}
