namespace Sluice.FairBench;

/// <summary>
/// The <c>sluice</c> command from this checkout, as users run it: <c>src/Sluice.Cli</c> built in Release
/// (<c>dotnet build src/Sluice.Cli -c Release</c>) before the bench, never inside a run's time.
/// </summary>
internal static class SluiceBinary
{
    /// <summary>The apphost <c>src/Sluice.Cli/bin/Release/net10.0/sluice</c>, or <paramref name="overridePath"/>.</summary>
    public static string Locate(string? overridePath)
    {
        string path = overridePath ?? Path.Combine(RepositoryRoot(), "src", "Sluice.Cli", "bin", "Release", "net10.0", "sluice");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"no sluice binary at {path}: build it first (dotnet build src/Sluice.Cli -c Release -nologo -v quiet) or pass --cli PATH", path);
    }

    /// <summary>The checkout this bench was built from: the nearest folder above it with <c>Sluice.slnx</c>.</summary>
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sluice.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no Sluice.slnx above {AppContext.BaseDirectory}: run the bench from its checkout");
    }
}
