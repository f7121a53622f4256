using System.Text;

namespace Sluice.Cli.Tests.Data;

/// <summary>A temporary folder for one test's data files, deleted afterwards.</summary>
internal sealed class DataTestFiles : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("sluice-data-").FullName;

    public string Write(string name, string text)
    {
        string path = Path.Combine(Directory, name);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
