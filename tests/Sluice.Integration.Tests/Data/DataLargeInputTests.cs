using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sluice.Integration.Tests.Run;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Data;

/// <summary>Runs alone: it measures the process's peak memory, which tests running beside it would raise.</summary>
[CollectionDefinition(nameof(DataLargeInputGroup), DisableParallelization = true)]
public sealed class DataLargeInputGroup;

/// <summary>
/// 200,000 rows through prepare, and 200,000 results (in reverse order, so every read is at an offset) through
/// export --join, in bounded memory: the peak working set grows by far less than the files, which a command holding
/// its rows would need several times over.
/// </summary>
[Collection(nameof(DataLargeInputGroup))]
public sealed class DataLargeInputTests(ITestOutputHelper log) : IDisposable
{
    private const int RowCount = 200_000;
    private const long Bound = 160L << 20;
    private const string ResultLine = """{"id":"b","custom_id":"ID","response":{"status_code":200,"request_id":null,"body":{"choices":[{"message":{"content":"answer ID PAD"}}],"usage":{"prompt_tokens":300,"completion_tokens":5}}},"error":null,"sluice":{"cost":0.0001,"cached":false}}""";

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-data-large-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task TwoHundredThousandRows_PrepareAndExport_InBoundedMemory()
    {
        string data = PathOf("big.csv");
        string padding = new('x', 900);
        using (var writer = new StreamWriter(data, false, new UTF8Encoding(false)))
        {
            await writer.WriteAsync("id,title,body\n");
            for (int i = 0; i < RowCount; i++)
            {
                await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"r{i},\"Title {i}, with a comma\",\"{padding}\n{i}\"\n"));
            }
        }

        long dataBytes = new FileInfo(data).Length;
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long peakBefore = process.PeakWorkingSet64;

        var prepare = await SluiceAsync("prepare", data, "-t", "{{title}}: {{body}}", "-m", "gpt-4o-mini", "--id-column", "id", "-o", PathOf("batch.jsonl"));
        Assert.True(prepare.ExitCode == 0, prepare.Error);
        Assert.Contains("200,000 requests", prepare.Output, StringComparison.Ordinal);

        // Results as sluice run writes them, but last row first: export must find each by its offset.
        using (var writer = new StreamWriter(PathOf("results.jsonl"), false, new UTF8Encoding(false)))
        {
            for (int i = RowCount - 1; i >= 0; i--)
            {
                string id = string.Create(CultureInfo.InvariantCulture, $"r{i}");
                await writer.WriteAsync(ResultLine.Replace("ID", id, StringComparison.Ordinal).Replace("PAD", padding, StringComparison.Ordinal) + "\n");
            }
        }

        var export = await SluiceAsync("export", PathOf("results.jsonl"), "--to", PathOf("answers.csv"), "--join", data, "--id-column", "id");
        Assert.True(export.ExitCode == 0, export.Error);
        Assert.Contains("200,000 rows written", export.Output, StringComparison.Ordinal);
        Assert.Contains("200,000 ok", export.Output, StringComparison.Ordinal);

        process.Refresh();
        long grown = process.PeakWorkingSet64 - peakBefore;
        long files = dataBytes + new FileInfo(PathOf("batch.jsonl")).Length + new FileInfo(PathOf("results.jsonl")).Length;
        log.WriteLine($"peak working set grew by {grown >> 20} MiB for {files >> 20} MiB of files");
        Assert.True(grown < Bound, $"peak working set grew by {grown >> 20} MiB for {files >> 20} MiB of files");
    }

    private static async Task<(int ExitCode, string Output, string Error)> SluiceAsync(params string[] arguments)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Cli.SluiceCommandLine.InvokeAsync(arguments, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(BatchFiles.Bound);
        return (exitCode, output.ToString(), error.ToString());
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
