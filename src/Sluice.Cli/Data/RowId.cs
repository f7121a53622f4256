using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Sluice.Cli.Data;

/// <summary>
/// The <c>custom_id</c> a row gets: its id column's value when one is named, else <c>row-</c> and 16 hex digits of
/// the SHA-256 of its fields (names and values, sorted by name, so reordering columns keeps the ids). The same row
/// gets the same id in every run and in <c>sluice export --join</c>.
/// </summary>
internal static class RowId
{
    public const string Prefix = "row-";

    /// <summary>The row's id, or null with the reason it has none.</summary>
    public static string? Of(DataRow row, string? idColumn, out string? problem)
    {
        problem = null;
        if (idColumn is null)
        {
            return ContentHash(row);
        }

        if (row.Find(idColumn) is not { } field)
        {
            problem = $"has no field '{idColumn}' (the --id-column)";
            return null;
        }

        if (field.IsEmpty || string.IsNullOrWhiteSpace(field.Text))
        {
            problem = $"has an empty '{idColumn}' (the --id-column); every row needs its own id";
            return null;
        }

        if (Run.RequestLineCheck.CustomIdProblem(field.Text) is { } idProblem)
        {
            problem = $"'{idColumn}': {idProblem}";
            return null;
        }

        return field.Text;
    }

    public static string ContentHash(DataRow row)
    {
        var fields = row.Fields.OrderBy(f => f.Name, StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> length = stackalloc byte[4];
        foreach (var field in fields)
        {
            Append(hash, field.Name, length);
            hash.AppendData([(byte)field.Kind]);
            Append(hash, field.Text, length);
        }

        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return Prefix + Convert.ToHexStringLower(digest[..8]);
    }

    /// <summary>A 128-bit fingerprint of an id: what the duplicate check and export's index keep instead of the id.</summary>
    public static UInt128 Fingerprint(string id)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), digest);
        return BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    // Length-prefixed, so ("ab","c") and ("a","bc") differ.
    private static void Append(IncrementalHash hash, string text, Span<byte> length)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
