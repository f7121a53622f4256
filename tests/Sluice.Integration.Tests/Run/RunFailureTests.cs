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
        Assert.Equal(files.Ids.Order(StringComparer.Ordinal), server.Requests.Select(r => r.CustomId).Distinct().Order(StringComparer.Ordinal));

        Directory.Delete(temporary);
        var rerun = await files.RunAsync(server.BaseUrl, "--concurrency", "2");

        // Every outcome was journalled before the failure: the rerun sends nothing and writes the results.
        Assert.True(rerun.ExitCode == 0, $"exit {rerun.ExitCode}\n{rerun.Output}\n{rerun.Error}");
        Assert.Contains("resuming: 3 already done", rerun.Output, StringComparison.Ordinal);
        Assert.Contains("attempts 0 ·", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }

    [Fact]
    public async Task InputChangedDuringTheRun_StopsReading_Exit4_AndTheRestoredInputResumes()
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
        // Ids, not requests: a try may be hedged at the end of a run, so the server can see an id twice in one run.
        var first = server.Requests.Select(r => r.CustomId).ToHashSet();
        Assert.InRange(first.Count, 1, Count - 1);
        Assert.DoesNotContain($"req-{Count + 1}", first);
        // What was sent was journalled, and the outputs were rebuilt from it.
        Assert.Equal(first.Order(StringComparer.Ordinal), BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf).Order(StringComparer.Ordinal));

        File.WriteAllBytes(files.Input, original);
        var rerun = await files.RunAsync(server.BaseUrl, "--concurrency", "64");

        Assert.True(rerun.ExitCode == 0, $"exit {rerun.ExitCode}\n{rerun.Output}\n{rerun.Error}");
        // The rerun skips what the first run journalled (a hedge the first run cancelled may still reach the server
        // late, so this is read from the run's own account, not the server's).
        Assert.Contains($"resuming: {first.Count:N0} already done", rerun.Output, StringComparison.Ordinal);
        Assert.Equal(files.Ids.Order(StringComparer.Ordinal), server.Requests.Select(r => r.CustomId).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
    }

    [Fact]
    public async Task AJournalThatCannotBeWritten_IsOneLine_Exit4_NotAnEarlyStop()
    {
        // Outcomes that cannot be made durable: Sluice failed (4), which "stopped early" (3) used to stand for.
        using var files = new BatchFiles(3);
        int broken = 0;
        await using var server = await LoopbackServer.StartAsync(http =>
        {
            if (Interlocked.Exchange(ref broken, 1) == 0)
            {
                // Another connection takes the table away, so the run's next commit fails as a full disk's would.
                using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={files.Journal};Pooling=False");
                connection.Open();
                using var drop = connection.CreateCommand();
                drop.CommandText = "DROP TABLE outcomes";
                drop.ExecuteNonQuery();
            }

            return LoopbackServer.WriteAsync(http, 200, "application/json", Encoding.UTF8.GetBytes(Completion));
        });

        var (exitCode, output, error) = await files.RunAsync(server.BaseUrl, "--concurrency", "1");

        Assert.True(exitCode == 4, $"exit {exitCode}\n{output}\n{error}");
        string line = Assert.Single(error.Trim().Split('\n'));
        Assert.StartsWith($"sluice run: failed: the journal {files.Journal} could not be written: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }
}
