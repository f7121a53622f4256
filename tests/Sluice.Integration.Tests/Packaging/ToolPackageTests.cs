using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Xml.Linq;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Packaging;

/// <summary>
/// The packages install: eng/pack.sh packs every packable project of the solution into a temporary folder, the
/// <c>sluice</c> tool installs from that folder into a temporary tool path, and the installed command runs a small batch
/// against its built-in mock; the publish folder has an executable named <c>sluice</c>. Offline: the tool package carries its dependencies, and NuGet reads only the folder and
/// the configured mirror.
/// </summary>
public sealed class ToolPackageTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan PackBound = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan CommandBound = TimeSpan.FromMinutes(2);

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("sluice-pack-");

    [Fact]
    public async Task Pack_ThenToolInstall_GivesAWorkingSluiceCommand()
    {
        string root = RepositoryRoot();
        string packages = Path.Combine(_temp.FullName, "packages");

        // Packs what the build of this configuration made (test.sh builds the solution first) rather than building
        // again under the running tests.
        var pack = await RunAsync("bash", [Path.Combine(root, "eng", "pack.sh"), packages, "--no-build"], root, PackBound,
            ("CONFIGURATION", Configuration()));
        Assert.True(pack.ExitCode == 0, $"pack exit {pack.ExitCode}: {pack.Output}");
        var made = Directory.GetFiles(packages, "*.nupkg").Select(Path.GetFileName).ToList();
        foreach (string id in PackableIds(root))
        {
            Assert.True(made.Exists(name => IsPackageOf(name!, id)), $"no package for {id} among {string.Join(", ", made)}");
        }

        string tool = made.Single(name => IsPackageOf(name!, "Sluice.Cli"))!;
        string version = tool["Sluice.Cli.".Length..^".nupkg".Length];

        // A fresh package cache, so the install takes the package just made and not an older one of the same version.
        string tools = Path.Combine(_temp.FullName, "tools");
        var install = await RunAsync("dotnet",
            ["tool", "install", "--tool-path", tools, "--add-source", packages, "--version", version, "--ignore-failed-sources", "Sluice.Cli"],
            _temp.FullName, CommandBound, ("NUGET_PACKAGES", Path.Combine(_temp.FullName, "nuget")));
        Assert.True(install.ExitCode == 0, $"install exit {install.ExitCode}: {install.Output}");
        string sluice = Path.Combine(tools, OperatingSystem.IsWindows() ? "sluice.exe" : "sluice");
        Assert.True(File.Exists(sluice), $"no {sluice} after install: {install.Output}");

        var versionRun = await RunAsync(sluice, ["--version"], _temp.FullName, CommandBound);
        Assert.Equal(0, versionRun.ExitCode);
        Assert.StartsWith(version, versionRun.Output.Trim(), StringComparison.Ordinal);

        string input = Path.Combine(_temp.FullName, "small.jsonl");
        string[] ids = [.. Enumerable.Range(1, 5).Select(i => $"post-{i}")];
        await File.WriteAllLinesAsync(input, ids.Select(id => JsonSerializer.Serialize(new
        {
            custom_id = id,
            method = "POST",
            url = "/v1/chat/completions",
            body = new { model = "gpt-4o-mini", max_tokens = 20, messages = new[] { new { role = "user", content = $"Summarise {id}." } } },
        })));
        var run = await RunAsync(sluice, ["run", input, "--mock"], _temp.FullName, CommandBound);
        Assert.True(run.ExitCode == 0, $"sluice run exit {run.ExitCode}: {run.Output}");

        string results = Path.Combine(_temp.FullName, "small.results.jsonl");
        var lines = (await File.ReadAllLinesAsync(results)).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(ids, lines.Select(l => l.GetProperty("custom_id").GetString()).Order(StringComparer.Ordinal));
        Assert.All(lines, l => Assert.Equal(200, l.GetProperty("response").GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task Publish_MakesAnExecutableNamedSluice()
    {
        // The assembly is Sluice.Cli (a 'sluice' assembly would be the library 'Sluice' to the loader), so the
        // publish copies the app host under the command's name; it must run from the publish folder.
        string root = RepositoryRoot();
        string folder = Path.Combine(_temp.FullName, "publish");
        var publish = await RunAsync("dotnet",
            ["publish", Path.Combine(root, "src", "Sluice.Cli"), "-c", Configuration(), "--no-build", "-nologo", "-v", "quiet", "-o", folder],
            root, PackBound);
        Assert.True(publish.ExitCode == 0, $"publish exit {publish.ExitCode}: {publish.Output}");

        var version = await RunAsync(Path.Combine(folder, OperatingSystem.IsWindows() ? "sluice.exe" : "sluice"), ["--version"], _temp.FullName, CommandBound);
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Output.Trim());
    }

    public void Dispose() => _temp.Delete(recursive: true);

    // "Sluice.0.1.0.nupkg" is Sluice's, not "Sluice.Cli.0.1.0.nupkg": the id is followed by a version's first digit.
    private static bool IsPackageOf(string file, string id) =>
        file.StartsWith(id + ".", StringComparison.OrdinalIgnoreCase) && file.Length > id.Length + 1 && char.IsAsciiDigit(file[id.Length + 1]);

    /// <summary>The package ids the solution's packable projects make: every project not marked IsPackable false.</summary>
    private static IEnumerable<string> PackableIds(string root)
    {
        foreach (var element in XDocument.Load(Path.Combine(root, "Sluice.slnx")).Descendants("Project"))
        {
            string path = Path.Combine(root, element.Attribute("Path")!.Value);
            var project = XDocument.Load(path);
            string? Property(string name) => project.Descendants(name).Select(e => e.Value.Trim()).LastOrDefault();
            if (!string.Equals(Property("IsPackable"), "false", StringComparison.OrdinalIgnoreCase) &&
                !string.Equals(Property("IsTestProject"), "true", StringComparison.OrdinalIgnoreCase))
            {
                yield return Property("PackageId") ?? Path.GetFileNameWithoutExtension(path);
            }
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sluice.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Sluice.slnx above {AppContext.BaseDirectory}");
    }

    private static string Configuration() =>
        typeof(ToolPackageTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    private async Task<(int ExitCode, string Output)> RunAsync(
        string file, string[] arguments, string directory, TimeSpan bound, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The test host's MSBuild variables would point a nested dotnet at the test run's own MSBuild; and the tool's
        // launcher finds the runtime this test runs on.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(bound);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} took longer than {bound}");
        }

        string text = await output.WaitAsync(bound) + await error.WaitAsync(bound);
        log.WriteLine($"$ {Path.GetFileName(file)} {string.Join(' ', arguments)} -> {process.ExitCode}\n{text}");
        return (process.ExitCode, text);
    }
}
