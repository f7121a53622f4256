using System.Text.Json;

namespace Sluice.Cli.Data;

/// <summary>
/// One field of a data row. <see cref="Text"/> is the value as text: a CSV cell or a file's text as it is, a JSON
/// string's value, or the raw JSON of any other JSON value (number, true, object...), whose kind <see cref="Kind"/> keeps.
/// </summary>
internal readonly record struct DataField(string Name, string Text, JsonValueKind Kind = JsonValueKind.String)
{
    /// <summary>Empty: an empty string, or JSON null.</summary>
    public bool IsEmpty => Kind == JsonValueKind.Null || (Kind == JsonValueKind.String && Text.Length == 0);
}

/// <summary>
/// One row of a data source: where it is (<see cref="Location"/>: "line 12", or a file's name in a folder), its
/// fields in order, and what is wrong with it when it could not be read as a row at all.
/// </summary>
internal sealed record DataRow(long LineNumber, string Location, IReadOnlyList<DataField> Fields, string? Problem = null)
{
    /// <summary>Every field is empty (or there is none).</summary>
    public bool IsEmpty => Fields.All(f => f.IsEmpty);

    public DataField? Find(string name)
    {
        foreach (var field in Fields)
        {
            if (string.Equals(field.Name, name, StringComparison.Ordinal))
            {
                return field;
            }
        }

        return null;
    }
}

/// <summary>The data file cannot be read on from here (malformed CSV, a bad header): its line and why.</summary>
internal sealed class DataFileException(string message) : Exception(message);
