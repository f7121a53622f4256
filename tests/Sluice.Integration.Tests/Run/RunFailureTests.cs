using System.Text;
using System.Text.Json;
using Sluice.Integration.Tests.Support;
using Sluice.Mock;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// <c>sluice run</c> over real sockets when ids are unusual and when the machine fails it: any Unicode id reaches the
/// mock's per-id statistics as itself; a failure during the run is one line and exit 4, with the journal intact so the
/// same command resumes without sending anything twice.
/// </summary>
public sealed class RunFailureTests
{
    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}""";

    [Fact]
    public async Task UnicodeCustomIds_ReachTheMocksPerIdStatistics_AsThemselves()
    {
        using var files = new BatchFiles(1);
        string[] ids = ["résumé-1", "中文-2", "emoji-😀", "per%cent 41", "post-5"];
        File.WriteAllLines(files.Input, ids.Select((id, i) => BatchFiles.Line(i, "gpt-4o-mini", "hi").Replace($"\"req-{i}\"", JsonSerializer.Serialize(id), StringComparison.Ordinal)), new UTF8Encoding(false));
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 6_000 },
            Latency = TimeSpan.FromMilliseconds(5),
        }).WaitAsync(BatchFiles.Bound);

        var (exitCode, output, error) = await files.RunAsync(mock.BaseUrl);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{output}\n{error}");
        Assert.Equal(ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        Assert.Equal(ids.Order(StringComparer.Ordinal), mock.GetStats().CustomIds.Counts.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ResultsTemporaryFileBecomingADirectoryDuringTheRun_IsOneLine_Exit4_AndTheRerunResumes()
    {
        // The review's reproduction: a directory named RESULTS.tmp gave a stack trace and exit 1. It appears here after the
        // checks made before sending, as a failure the run cannot foresee would.
        using var files = new BatchFiles(3);
        string temporary = files.Results + ".tmp";
        await using var server = await LoopbackServer.StartAsync(http =>
        {
            Directory.CreateDirectory(temporary);
            return LoopbackServer.WriteAsync(http, 200, "application/json", Encoding.UTF8.GetBytes(Completion));
        });

        var (exitCode, output, error) = await files.RunAsync(server.BaseUrl, "--concurrency", "2");

        Assert.True(exitCode == 4, $"exit {exitCode}\n{output}\n{error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith("sluice run: failed: ", line, StringComparison.Ordinal);
        Assert.Contains(temporary, line, StringComparison.Ordinal);
        Assert.EndsWith("run the same command again to resume.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);

        Directory.Delete(temporary);
        var rerun = await files.RunAsync(server.BaseUrl, "--concurrency", "2");

        Assert.True(rerun.ExitCode == 0, $"exit {rerun.ExitCode}\n{rerun.Output}\n{rerun.Error}");
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }

    [Fact]
    public async Task InputChangedDuringTheRun_StopsReading_Exit4_AndTheRestoredInputResumes_NothingSentTwice()
    {
        // More lines than the runner reads ahead (5,000), so the change lands in a part not yet read.
        const int Count = 8_000;
        using var files = new BatchFiles(Count);
        byte[] original = File.ReadAllBytes(files.Input);
        int changed = 0;
        await using var server = await LoopbackServer.StartAsync(http =>
        {
            if (Interlocked.Exchange(ref changed, 1) == 0)
            {
                File.AppendAllText(files.Input, BatchFiles.Line(Count + 1, "gpt-4o-mini", "added later") + "\n");
            }

            return LoopbackServer.WriteAsync(http, 200, "application/json", Encoding.UTF8.GetBytes(Completion));
        });

        var (exitCode, output, error) = await files.RunAsync(server.BaseUrl, "--concurrency", "64");

        Assert.True(exitCode == 4, $"exit {exitCode}\n{output}\n{error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith($"sluice run: failed: {files.Input} changed while it was being sent (noticed at line ", line, StringComparison.Ordinal);
        int sent = server.Requests.Count;
        Assert.InRange(sent, 1, Count - 1);
        Assert.DoesNotContain(server.Requests, r => r.CustomId == $"req-{Count + 1}");
        // What was sent was journalled, and the outputs were rebuilt from it.
        Assert.Equal(sent, BatchFiles.ReadLines(files.Results).Count);

        File.WriteAllBytes(files.Input, original);
        var rerun = await files.RunAsync(server.BaseUrl, "--concurrency", "64");

        Assert.True(rerun.ExitCode == 0, $"exit {rerun.ExitCode}\n{rerun.Output}\n{rerun.Error}");
        Assert.Equal(Count, server.Requests.Count);
        Assert.Equal(Count, server.Requests.Select(r => r.CustomId).Distinct().Count());
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }
}
