using System.Text;

namespace Sluice.Cli.Data;

/// <summary>
/// Rows of a folder of text files: each .txt or .md file (in subfolders too, in ordinal order of their paths, so
/// the order is the same on every machine) is a row with <c>name</c> (its file name without extension), <c>file</c>
/// (its path relative to the folder, with /) and <c>text</c> (its content, a byte-order mark dropped).
/// </summary>
internal static class FolderRows
{
    public static IEnumerable<DataRow> Read(string folder)
    {
        // Names only: a million paths are a few tens of megabytes, the texts are read one at a time.
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(IsText)
            .Select(path => Path.GetRelativePath(folder, path).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
        long number = 0;
        foreach (string relative in files)
        {
            number++;
            string text = File.ReadAllText(Path.Combine(folder, relative), Encoding.UTF8);
            yield return new DataRow(number, relative, [
                new DataField("name", Path.GetFileNameWithoutExtension(relative)),
                new DataField("file", relative),
                new DataField("text", text),
            ], text.Trim().Length == 0 ? "is empty" : null);
        }
    }

    private static bool IsText(string path)
    {
        string extension = Path.GetExtension(path);
        return extension.Equals(".txt", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".md", StringComparison.OrdinalIgnoreCase)
            || extension.Equals(".markdown", StringComparison.OrdinalIgnoreCase);
    }
}
