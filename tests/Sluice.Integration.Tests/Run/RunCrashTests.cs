using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Sluice.Cli.Run;
using Sluice.Mock;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// <c>sluice run</c> as a child process (the built Sluice.Cli.dll under <c>dotnet</c>), killed with SIGKILL at
/// seeded random moments and resumed: the results end with exactly one line per custom_id and the journal is sound.
/// </summary>
public sealed class RunCrashTests(ITestOutputHelper log)
{
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task KilledAtRandomMoments_ThenResumed_EachIdExactlyOnce_AndTheJournalIsSound()
    {
        // Each run is killed after a seeded random number of new answers, not at a fixed time: a fixed time measures the
        // machine (a fast one finished a resumed run before its kill). At 1,200 a minute (20 a second) a run cannot get
        // far past its kill point while the test polls, and 8 kills of at most 20 answers (plus a few in flight) leave
        // more than half the 400 lines to the final run, so every run is still working when it is killed.
        using var files = new BatchFiles(400);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 6_000 },
            Latency = TimeSpan.FromMilliseconds(30),
            LatencyJitter = TimeSpan.FromMilliseconds(25),
            Seed = 11,
        }).WaitAsync(BatchFiles.Bound);
        var random = new Random(20_260_101);
        const int Runs = 8;
        int kills = 0;

        for (int iteration = 0; iteration < Runs; iteration++)
        {
            long answeredBefore = mock.GetStats().Succeeded;
            int killAfter = random.Next(3, 21);
            using var child = Start(files, mock.BaseUrl, rpm: 1_200);
            long started = TimeProvider.System.GetTimestamp();
            while (!child.HasExited && mock.GetStats().Succeeded - answeredBefore < killAfter)
            {
                Assert.True(TimeProvider.System.GetElapsedTime(started) < ProcessBound, $"run {iteration} had {mock.GetStats().Succeeded - answeredBefore} answers after {ProcessBound}");
                await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
            }

            bool killed = !child.HasExited;
            if (killed)
            {
                child.Kill(entireProcessTree: true);
                kills++;
            }

            await child.WaitForExitAsync().WaitAsync(ProcessBound);
            // The journal survives every kill whole: what a later run resumes from is never torn.
            var (integrity, journalled) = Journal(files);
            Assert.Equal("ok", integrity);
            AssertNoDuplicates(files);
            log.WriteLine($"run {iteration}: {(killed ? "killed" : $"exit {child.ExitCode}")} after {mock.GetStats().Succeeded - answeredBefore} answers (target {killAfter}); {journalled} journalled");
        }

        Assert.Equal(Runs, kills);
        using (var final = Start(files, mock.BaseUrl))
        {
            string output = await final.StandardOutput.ReadToEndAsync().WaitAsync(ProcessBound);
            await final.WaitForExitAsync().WaitAsync(ProcessBound);
            Assert.True(final.ExitCode == 0, $"exit {final.ExitCode}: {output}");
        }

        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        Assert.Equal(0, mock.GetStats().BudgetViolations.Total);
        Assert.Equal(("ok", 400L), Journal(files));
    }

    // Read only while no run is alive, so the test never contends with the journal's writer.
    private static (string? Integrity, long Outcomes) Journal(BatchFiles files)
    {
        using var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        string? integrity = command.ExecuteScalar() as string;
        command.CommandText = "SELECT count(*) FROM outcomes";
        return (integrity, (long)command.ExecuteScalar()!);
    }

    [Fact]
    public async Task Interrupted_DrainsJournalsWhatFinished_ExitsThree_AndAResumeCompletes()
    {
        // Eight seconds of work at 3,000 a minute: time enough to be interrupted halfway even on a busy machine.
        using var files = new BatchFiles(400);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 3_000 },
            Latency = TimeSpan.FromMilliseconds(100),
        }).WaitAsync(BatchFiles.Bound);

        using (var child = Start(files, mock.BaseUrl, rpm: 3_000))
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stderr = child.StandardError.ReadToEndAsync();
            await WaitForAnswersAsync(mock, 20);
            await SignalAsync(child, "-INT");

            await child.WaitForExitAsync().WaitAsync(ProcessBound);
            string error = await stderr.WaitAsync(ProcessBound);
            Assert.True(child.ExitCode == 3, $"exit {child.ExitCode}: {await stdout.WaitAsync(ProcessBound)} {error}");
            Assert.Contains("Run the same command again to resume", error, StringComparison.Ordinal);
        }

        var partial = BatchFiles.ReadLines(files.Results);
        Assert.InRange(partial.Count, 1, 399);
        // A graceful stop lets requests in flight finish: nothing the mock answered is sent again.
        long answeredBefore = mock.GetStats().Succeeded;
        Assert.Equal(answeredBefore, partial.Count);

        using (var resume = Start(files, mock.BaseUrl, rpm: 6_000))
        {
            string output = await resume.StandardOutput.ReadToEndAsync().WaitAsync(ProcessBound);
            await resume.WaitForExitAsync().WaitAsync(ProcessBound);
            Assert.True(resume.ExitCode == 0, $"exit {resume.ExitCode}: {output}");
        }

        Assert.Equal(files.Ids, BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf));
        // What the first run finished is not sent again (checked above: every answer it got is journalled). The mock may
        // still see a few ids twice: on a busy machine a try cut by its learned timeout, or a hedge, is sent again within
        // one run (2 of 400 seen in CI), and recorded once.
        Assert.InRange(mock.GetStats().CustomIds.DuplicateSuccesses, 0, 20);
    }

    [Fact]
    public async Task InterruptedTwice_StopsAtOnce_WithoutWaitingForSlowAnswers_AndLosesNothingJournalled()
    {
        using var files = new BatchFiles(200);
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Latency = TimeSpan.FromMilliseconds(200),
            LatencyJitter = TimeSpan.FromMilliseconds(100),
            Seed = 3,
            // Some answers never come: a graceful stop would wait for them until --timeout (1 minute).
            Faults = new MockFaults { HangRate = 0.3 },
        }).WaitAsync(BatchFiles.Bound);

        using (var child = Start(files, mock.BaseUrl, rpm: 3_000, "--timeout", "1m"))
        {
            var stdout = child.StandardOutput.ReadToEndAsync();
            var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var errorText = new System.Text.StringBuilder();
            child.ErrorDataReceived += (_, line) =>
            {
                lock (errorText)
                {
                    errorText.AppendLine(line.Data);
                }

                if (line.Data?.Contains("stopping", StringComparison.Ordinal) == true)
                {
                    stopping.TrySetResult();
                }
            };
            child.BeginErrorReadLine();
            await WaitForAnswersAsync(mock, 10);
            long started = TimeProvider.System.GetTimestamp();
            await SignalAsync(child, "-INT");

            // The second Ctrl-C only once the first was taken: two signals close together can arrive as one.
            await stopping.Task.WaitAsync(ProcessBound);
            await SignalAsync(child, "-INT");

            await child.WaitForExitAsync().WaitAsync(ProcessBound);
            var tookToStop = TimeProvider.System.GetElapsedTime(started);
            string error;
            lock (errorText)
            {
                error = errorText.ToString();
            }

            Assert.True(child.ExitCode == 3, $"exit {child.ExitCode}: {await stdout.WaitAsync(ProcessBound)} {error}");
            Assert.True(tookToStop < TimeSpan.FromSeconds(20), $"took {tookToStop} to stop");
        }

        var partial = BatchFiles.ReadLines(files.Results);
        Assert.InRange(partial.Count, 1, 199);
        AssertNoDuplicates(files);
        using var connection = new SqliteConnection($"Data Source={files.Journal};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", command.ExecuteScalar());
        command.CommandText = "SELECT count(*) FROM outcomes";
        Assert.Equal((long)partial.Count, command.ExecuteScalar());
    }

    /// <summary>
    /// Waits until the mock has answered <paramref name="answers"/> requests, then a little more so some are journalled:
    /// interrupting after a fixed delay would measure how busy the machine is, not the run.
    /// </summary>
    private static async Task WaitForAnswersAsync(MockServer mock, int answers)
    {
        long from = TimeProvider.System.GetTimestamp();
        while (mock.GetStats().Succeeded < answers)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(from) < ProcessBound, $"the run had {mock.GetStats().Succeeded} answers after {ProcessBound}");
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
    }

    private static async Task SignalAsync(Process child, string signal)
    {
        // A test run started in the background of a non-interactive shell inherits SIGINT ignored, and so does the child:
        // POSIX keeps it ignored and .NET honours that, so Ctrl-C could never reach it. SIGTERM takes the same drain path
        // in sluice run (both are handled by one handler); use it only then.
        if (signal == "-INT" && InterruptIgnored.Value)
        {
            signal = "-TERM";
        }

        using var kill = Process.Start("kill", [signal, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().WaitAsync(ProcessBound);
    }

    private static readonly Lazy<bool> InterruptIgnored = new(() =>
    {
        // /proc/self/status "SigIgn:" is a hexadecimal mask with bit (n - 1) for signal n; SIGINT is 2.
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && ulong.TryParse(line["SigIgn:".Length..].Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out ulong mask)
            && (mask & 0x2) != 0;
    });

    private static void AssertNoDuplicates(BatchFiles files)
    {
        var ids = BatchFiles.ReadLines(files.Results).Select(BatchFiles.IdOf).ToList();
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    private static Process Start(BatchFiles files, Uri baseUrl, int rpm = 12_000, params string[] extra)
    {
        // The CLI built beside this test assembly (a referenced Exe brings its runtimeconfig along).
        string cli = typeof(RunCommand).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (string argument in files.Arguments(baseUrl, ["--rpm", rpm.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra]))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[BatchFiles.KeyVariable] = BatchFiles.Key;
        return Process.Start(start)!;
    }
}
