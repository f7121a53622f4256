using System.Diagnostics;
using System.Globalization;
using Sluice.Cli.Run;
using Sluice.Mock;
using Sluice.Tests.Support;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Sluice.Integration.Tests.Run;

/// <summary>
/// Three <c>sluice run --batch</c> workers as child processes (the built CLI under <c>dotnet</c>) sharing one batch
/// through a real redis-server, against one mock; one is killed with SIGKILL while it holds lines. The other two
/// finish its lines, and <c>sluice collect</c> writes exactly one valid result line per custom_id, in input order.
/// </summary>
public sealed class RunSharedBatchKillTests(ITestOutputHelper log)
{
    private static readonly TimeSpan ProcessBound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ThreeWorkers_OneKilledWithSigkill_TheOthersFinishItsLines_CollectGivesEachIdExactlyOnce()
    {
        using var files = new BatchFiles(600);
        await using var redis = await RedisServer.StartAsync();
        // 3,000 a minute shared by the workers: 600 lines take about 12 s, so the kill comes while every worker has
        // lines in hand, however fast the machine.
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 3_000 },
            Latency = TimeSpan.FromMilliseconds(60),
            LatencyJitter = TimeSpan.FromMilliseconds(40),
            Seed = 5,
        }).WaitAsync(BatchFiles.Bound);
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var db = connection.GetDatabase();

        var workers = Enumerable.Range(1, 3).Select(i => Start(files, mock.BaseUrl, redis.Configuration, Path.Combine(files.Directory, $"worker-{i}.jsonl"))).ToList();
        try
        {
            var outputs = workers.Select(w => (Out: w.StandardOutput.ReadToEndAsync(), Err: w.StandardError.ReadToEndAsync())).ToList();
            var victim = workers[1];

            // Killed once the mock has answered some of the batch and the victim holds lines (its consumer name
            // begins with its machine and process id): those lines are what the others must finish.
            string prefix = $"{Environment.MachineName}-{victim.Id.ToString(CultureInfo.InvariantCulture)}-";
            long started = TimeProvider.System.GetTimestamp();
            long held;
            while (true)
            {
                held = await HeldByAsync(db, prefix);

                if (mock.GetStats().Succeeded >= 60 && held > 0)
                {
                    break;
                }

                if (victim.HasExited)
                {
                    // Its output is read only then: awaiting it earlier would wait for the victim to end.
                    Assert.Fail($"the victim ({prefix}) exited before it was killed: {await outputs[1].Out} {await outputs[1].Err}");
                }
                Assert.True(TimeProvider.System.GetElapsedTime(started) < ProcessBound, $"after {ProcessBound}: {mock.GetStats().Succeeded} answers, the victim holds {held}");
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
            }

            victim.Kill(entireProcessTree: true);
            await victim.WaitForExitAsync().WaitAsync(ProcessBound);
            log.WriteLine($"killed the victim holding {held} lines after {mock.GetStats().Succeeded} answers");

            foreach (int i in new[] { 0, 2 })
            {
                await workers[i].WaitForExitAsync().WaitAsync(ProcessBound);
                string output = await outputs[i].Out.WaitAsync(ProcessBound);
                string error = await outputs[i].Err.WaitAsync(ProcessBound);
                log.WriteLine($"worker {i + 1}: exit {workers[i].ExitCode}\n{output}{error}");
                Assert.True(workers[i].ExitCode == 0, $"worker {i + 1}: exit {workers[i].ExitCode}: {output} {error}");
            }

            // Nothing lost: the victim's lines were taken over and every line has its one result.
            Assert.Equal(0, await HeldByAsync(db, prefix));
            string collected = Path.Combine(files.Directory, "collected.jsonl");
            var output2 = new StringWriter();
            var error2 = new StringWriter();
            int exitCode = await Cli.SluiceCommandLine.InvokeAsync(
                ["collect", "--redis", redis.Configuration, "--batch", "kill-test", "-o", collected],
                new System.CommandLine.InvocationConfiguration { Output = output2, Error = error2 }).WaitAsync(BatchFiles.Bound);
            Assert.True(exitCode == 0, $"collect: exit {exitCode}: {output2} {error2}");

            var lines = BatchFiles.ReadLines(collected);
            Assert.Equal(files.Ids, lines.Select(BatchFiles.IdOf));
            Assert.All(lines, line => Assert.Equal(200, line.GetProperty("response").GetProperty("status_code").GetInt32()));
            foreach (int i in new[] { 1, 3 })
            {
                Assert.Equal(File.ReadAllText(collected), File.ReadAllText(Path.Combine(files.Directory, $"worker-{i}.jsonl")));
            }

            // Sent twice at most: what the victim held when it died (answered, perhaps, but never recorded). A live worker
            // renews its lines every 5/6 s, so only a stall of over 4 s could lose it a line to another.
            var ids = mock.GetStats().CustomIds;
            log.WriteLine($"mock: {ids.Total} requests, {ids.Distinct} distinct ids, {ids.DuplicateSuccesses} answered twice");
            Assert.Equal(600, ids.Distinct);
            // Plus, on a busy machine, a worker's own hedges and tries cut by a learned timeout (3% of lines seen in CI).
            Assert.InRange(ids.DuplicateSuccesses, 0, (int)held + 60);
            Assert.Equal(0, mock.GetStats().BudgetViolations.Total);
        }
        finally
        {
            foreach (var worker in workers)
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }
        }
    }

    [Fact]
    public async Task AWorkerStoppedGracefully_GivesItsLinesBackAtOnce_Exit3_AndAnotherFinishesThemWithoutWaitingForATakeover()
    {
        using var files = new BatchFiles(300);
        await using var redis = await RedisServer.StartAsync();
        await using var mock = await MockServer.StartAsync(new MockOptions
        {
            Limits = new MockLimits { RequestsPerMinute = 3_000 },
            Latency = TimeSpan.FromMilliseconds(60),
            Seed = 6,
        }).WaitAsync(BatchFiles.Bound);
        using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var db = connection.GetDatabase();

        // An hour before any line is taken over: only lines given back can reach the other worker in time.
        var leaving = Start(files, mock.BaseUrl, redis.Configuration, Path.Combine(files.Directory, "leaving.jsonl"), takeover: "1h");
        var staying = Start(files, mock.BaseUrl, redis.Configuration, Path.Combine(files.Directory, "staying.jsonl"), takeover: "1h");
        try
        {
            var leavingOutput = (Out: leaving.StandardOutput.ReadToEndAsync(), Err: leaving.StandardError.ReadToEndAsync());
            var stayingOutput = (Out: staying.StandardOutput.ReadToEndAsync(), Err: staying.StandardError.ReadToEndAsync());
            string prefix = $"{Environment.MachineName}-{leaving.Id.ToString(CultureInfo.InvariantCulture)}-";
            long started = TimeProvider.System.GetTimestamp();
            while (!(mock.GetStats().Succeeded >= 30 && await HeldByAsync(db, prefix) > 0))
            {
                if (leaving.HasExited)
                {
                    Assert.Fail($"the leaving worker ended before it was stopped: {await leavingOutput.Out} {await leavingOutput.Err}");
                }

                Assert.True(TimeProvider.System.GetElapsedTime(started) < ProcessBound, "the leaving worker never held lines");
                await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
            }

            using (var term = Process.Start("kill", ["-TERM", leaving.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync().WaitAsync(ProcessBound);
            }

            await leaving.WaitForExitAsync().WaitAsync(ProcessBound);
            string leftError = await leavingOutput.Err.WaitAsync(ProcessBound);
            Assert.True(leaving.ExitCode == 3, $"exit {leaving.ExitCode}: {await leavingOutput.Out} {leftError}");
            Assert.Contains("Run the same command again (here or on any machine) to go on", leftError, StringComparison.Ordinal);
            // Given back: still listed under the leaving worker, but idle far past any takeover time.
            var givenBack = (await db.StreamPendingMessagesAsync("sluice:batch:{kill-test}:lines", "workers", 10_000, RedisValue.Null))
                .Where(p => p.ConsumerName.ToString().StartsWith(prefix, StringComparison.Ordinal)).ToList();
            Assert.All(givenBack, p => Assert.True(p.IdleTimeInMilliseconds >= TimeSpan.FromHours(1).TotalMilliseconds, $"{p.MessageId} idle {p.IdleTimeInMilliseconds} ms"));

            await staying.WaitForExitAsync().WaitAsync(ProcessBound);
            string stayed = await stayingOutput.Out.WaitAsync(ProcessBound);
            Assert.True(staying.ExitCode == 0, $"exit {staying.ExitCode}: {stayed} {await stayingOutput.Err}");
            Assert.Equal(files.Ids, BatchFiles.ReadLines(Path.Combine(files.Directory, "staying.jsonl")).Select(BatchFiles.IdOf));
            // A graceful stop lets requests in flight finish and records them, and gives back only lines not started: no
            // line is finished by both workers. (The mock may still see an id twice: a busy machine's hedges and tries
            // cut by a learned timeout send again within one worker, which records the line once.)
            string left = await leavingOutput.Out.WaitAsync(ProcessBound);
            Assert.DoesNotContain("came after another worker had recorded", left, StringComparison.Ordinal);
            Assert.DoesNotContain("came after another worker had recorded", stayed, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var worker in new[] { leaving, staying })
            {
                if (!worker.HasExited)
                {
                    worker.Kill(entireProcessTree: true);
                }

                worker.Dispose();
            }
        }
    }

    // Lines pending for the consumers whose names begin with the prefix (one process's worker).
    private static async Task<long> HeldByAsync(IDatabase db, string prefix)
    {
        var key = (RedisKey)"sluice:batch:{kill-test}:lines";
        if (!await db.KeyExistsAsync(key))
        {
            return 0;
        }

        try
        {
            var pending = await db.StreamPendingAsync(key, "workers");
            return pending.Consumers.Where(c => c.Name.ToString().StartsWith(prefix, StringComparison.Ordinal)).Sum(c => (long)c.PendingMessageCount);
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            return 0;
        }
    }

    private static Process Start(BatchFiles files, Uri baseUrl, string redis, string results, string takeover = "5s")
    {
        string cli = typeof(RunCommand).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        string[] arguments =
        [
            "run", files.Input, "-o", results, "--base-url", baseUrl.ToString(), "--api-key-env", BatchFiles.KeyVariable,
            "--rpm", "3000", "--redis", redis, "--batch", "kill-test", "--takeover-after", takeover,
        ];
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[BatchFiles.KeyVariable] = BatchFiles.Key;
        return Process.Start(start)!;
    }
}
