namespace Sluice.Efficiency.Runners;

/// <summary>
/// The <c>sluice</c> command as users run it, from this checkout: <c>src/Sluice.Cli</c> built once in Release before
/// any row (never inside a row's time), then started as <c>dotnet Sluice.Cli.dll</c> for every row.
/// </summary>
internal static class SluiceCli
{
    private static readonly SemaphoreSlim Building = new(1, 1);
    private static string? _assembly;

    /// <summary>The built <c>Sluice.Cli.dll</c>; valid after <see cref="BuildAsync"/>.</summary>
    public static string Assembly => _assembly ?? throw new InvalidOperationException("the CLI was not built: call BuildAsync first");

    /// <summary>Builds the CLI in Release, once per bench run.</summary>
    public static async Task BuildAsync(CancellationToken cancellationToken)
    {
        await Building.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_assembly is not null)
            {
                return;
            }

            string project = Path.Combine(RepositoryRoot(), "src", "Sluice.Cli", "Sluice.Cli.csproj");
            Console.WriteLine("building src/Sluice.Cli (Release) for the whole-command rows...");
            var build = await ChildProcess.RunAsync("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "quiet"], null, null, cancellationToken)
                .ConfigureAwait(false);
            if (build.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet build {project} failed:\n{build.Output}{build.Error}");
            }

            string assembly = Path.Combine(Path.GetDirectoryName(project)!, "bin", "Release", "net10.0", "Sluice.Cli.dll");
            _assembly = File.Exists(assembly) ? assembly : throw new FileNotFoundException("the build made no Sluice.Cli.dll", assembly);
        }
        finally
        {
            Building.Release();
        }
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
