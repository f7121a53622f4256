using System.Diagnostics;
using Sluice.Cli.Run;
using Sluice.Integration.Tests.Run;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.BatchApi;

/// <summary>
/// <c>sluice run --via batch-api</c> as a child process killed with SIGKILL while its batches are in progress, then run
/// again: it finds its batches instead of submitting them again, and ends with exactly one line per custom_id.
/// </summary>
public sealed class RunViaBatchApiCrashTests(ITestOutputHelper log)
{
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KilledWhileBatchesRun_ThenRerun_EachIdExactlyOnce_AndNoBatchCreatedTwice()
    {
        using var files = new BatchFiles(60);
        // Batches take 2 s: the kill lands while the first parts are in progress, whatever the machine's speed.
        await using var mock = await MockServer.StartAsync(new MockOptions { BatchProcessingTime = TimeSpan.FromSeconds(2), Seed = 13 }).WaitAsync(BatchFiles.Bound);

        using (var child = Start(files, mock.BaseUrl))
        {
            long started = TimeProvider.System.GetTimestamp();
            while (!child.HasExited && mock.GetStats().Batches.OpenAIBatchesCreated < 1)
            {
                Assert.True(TimeProvider.System.GetElapsedTime(started) < ProcessBound, "no batch was created");
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
            }

            Assert.False(child.HasExited, "the run ended before it could be killed");
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync().WaitAsync(ProcessBound);
        }

        long createdBeforeKill = mock.GetStats().Batches.OpenAIBatchesCreated;
        using (var rerun = Start(files, mock.BaseUrl))
        {
            var stderr = rerun.StandardError.ReadToEndAsync();
            string output = await rerun.StandardOutput.ReadToEndAsync().WaitAsync(ProcessBound);
            await rerun.WaitForExitAsync().WaitAsync(ProcessBound);
            log.WriteLine(output + await stderr.WaitAsync(ProcessBound));
            Assert.True(rerun.ExitCode == 0, $"exit {rerun.ExitCode}: {output}");
        }

        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        // Every part journalled has one batch, and the mock created exactly those: none twice, none lost.
        long parts = RunViaBatchApiTests.PartCount(files);
        Assert.Equal(parts, mock.GetStats().Batches.OpenAIBatchesCreated);
        Assert.InRange(createdBeforeKill, 1, parts);
        log.WriteLine($"{createdBeforeKill} batches before the kill, {parts} in all");
    }

    private static Process Start(BatchFiles files, Uri baseUrl)
    {
        string cli = typeof(RunCommand).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string argument in files.Arguments(baseUrl, RunViaBatchApiTests.FewParts))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[BatchFiles.KeyVariable] = BatchFiles.Key;
        return Process.Start(start)!;
    }
}
