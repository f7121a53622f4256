using System.CommandLine;
using Sluice.Cli.Run;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Cli.Tests.Run;

/// <summary>
/// <c>sluice run --redis … --batch NAME</c> in process, against a real redis-server and the built-in mock: the refusals
/// (one line, exit 2) and two workers finishing one batch, each writing the same results file.
/// </summary>
public sealed class RunSharedBatchTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-batch-").FullName;
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Batch_WithoutRedis_IsAUsageError()
    {
        string input = Input("in.jsonl", 3);

        var (exitCode, _, error) = await InvokeAsync("run", input, "--mock", "--batch", "b1");

        Assert.Equal(2, exitCode);
        Assert.Equal("sluice run: --batch needs --redis HOST:PORT: the batch is shared through Redis (or set SLUICE_REDIS, or \"redis\" in the config file)", error.Trim());
    }

    [Fact]
    public async Task TakeoverAfter_WithoutABatch_IsAUsageError()
    {
        string input = Input("in.jsonl", 3);

        var (exitCode, _, error) = await InvokeAsync("run", input, "--mock", "--takeover-after", "10s");

        Assert.Equal(2, exitCode);
        Assert.Equal("sluice run: --takeover-after applies to a shared batch only: add --batch NAME (and --redis)", error.Trim());
    }

    [Fact]
    public async Task Batch_WithABadName_IsAUsageError()
    {
        string input = Input("in.jsonl", 3);

        var (exitCode, _, error) = await InvokeAsync("run", input, "--mock", "--redis", _redis.Configuration, "--batch", "no spaces");

        Assert.Equal(2, exitCode);
        Assert.Contains("'no spaces' is not a batch name", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_WhenRedisCannotBeReached_SaysWhereInOneLine_NeverThePassword_Exit2()
    {
        string input = Input("in.jsonl", 3);
        await _redis.StopAsync();

        var (exitCode, output, error) = await InvokeAsync("run", input, "--mock", "--redis", $"{_redis.Configuration},password=hunter2-secret", "--batch", "b1");

        Assert.Equal(2, exitCode);
        Assert.Equal($"sluice run: cannot reach Redis at {_redis.Configuration}: the batch b1 is kept there. Check --redis and that Redis is running, then run again", error.Trim());
        Assert.DoesNotContain("hunter2", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Batch_ADifferentFileUnderTheSameName_IsRefused_Exit2_AndTheBatchKeepsItsOwn()
    {
        string first = Input("first.jsonl", 4);
        string second = Input("second.jsonl", 5);
        var (firstExit, firstOutput, firstError) = await InvokeAsync("run", first, "-o", Path.Combine(_directory, "first.results.jsonl"), "--mock", "--redis", _redis.Configuration, "--batch", "same");
        Assert.True(firstExit == 0, firstOutput + firstError);

        var (exitCode, _, error) = await InvokeAsync("run", second, "-o", Path.Combine(_directory, "second.results.jsonl"), "--mock", "--redis", _redis.Configuration, "--batch", "same");

        Assert.Equal(2, exitCode);
        Assert.Contains($"the batch same in Redis at {_redis.Configuration} holds a different file", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_directory, "second.results.jsonl")));
    }

    [Fact]
    public async Task TwoWorkers_FinishOneBatch_EachWritesEveryResultOnceInInputOrder_AndSaysWhatItDid()
    {
        string input = Input("in.jsonl", 40);
        string[] results = [Path.Combine(_directory, "a.jsonl"), Path.Combine(_directory, "b.jsonl")];

        var runs = await Task.WhenAll(results.Select(path =>
            InvokeAsync("run", input, "-o", path, "--mock", "--redis", _redis.Configuration, "--batch", "pair")));

        Assert.All(runs, run => Assert.True(run.ExitCode == 0, run.Output + run.Error));
        string[] ids = [.. Enumerable.Range(1, 40).Select(i => $"r{i}")];
        foreach (string path in results)
        {
            Assert.Equal(ids, File.ReadAllLines(path).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("custom_id").GetString()));
        }

        Assert.Equal(File.ReadAllText(results[0]), File.ReadAllText(results[1]));
        var did = runs.Select(run => int.Parse(System.Text.RegularExpressions.Regex.Match(run.Output, @"this worker did (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(40, did.Sum());
        Assert.All(runs, run => Assert.Contains("batch pair: 40 requests, 0 left", run.Output, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Batch_AlreadyComplete_AWorkerJoiningLate_SendsNothing_AndWritesTheResults()
    {
        string input = Input("in.jsonl", 5);
        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", Path.Combine(_directory, "one.jsonl"), "--mock", "--redis", _redis.Configuration, "--batch", "done");
        Assert.True(exitCode == 0, output + error);

        var late = await InvokeAsync("run", input, "-o", Path.Combine(_directory, "late.jsonl"), "--mock", "--redis", _redis.Configuration, "--batch", "done");

        Assert.True(late.ExitCode == 0, late.Output + late.Error);
        Assert.Contains("this worker did 0", late.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(_directory, "one.jsonl")), File.ReadAllText(Path.Combine(_directory, "late.jsonl")));
    }

    [Fact]
    public async Task Redis_Alone_SharesTheBudgetsThroughRedis_AndRunsAsUsual()
    {
        string input = Input("in.jsonl", 6);
        string results = Path.Combine(_directory, "alone.jsonl");

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", results, "--mock", "--redis", _redis.Configuration);

        Assert.True(exitCode == 0, output + error);
        Assert.Equal(6, File.ReadAllLines(results).Length);
        Assert.True(File.Exists(results + ".journal"), "without --batch the run keeps its journal");
        // The gate's state lives in Redis; no batch was made.
        var keys = await RedisKeysAsync();
        Assert.Contains(keys, key => key.StartsWith("sluice:{", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, key => key.StartsWith("sluice:batch:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Redis_FromTheConfigFile_JoinsTheBatch()
    {
        string input = Input("in.jsonl", 3);
        string config = Path.Combine(_directory, "sluice.json");
        File.WriteAllText(config, $$"""{ "redis": "{{_redis.Configuration}}" }""");

        var (exitCode, output, error) = await InvokeAsync("run", input, "-o", Path.Combine(_directory, "c.jsonl"), "--mock", "--config", config, "--batch", "from-config");

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("sluice:batch:{from-config}:results", await RedisKeysAsync());
    }

    [Fact]
    public async Task TakingLines_FromABatchThatIsGone_StopsAtOnce_SayingSo()
    {
        await using var batch = await Sluice.Redis.Batch.RedisBatch.ConnectAsync(new Sluice.Redis.Batch.RedisBatchOptions { Configuration = _redis.Configuration, Name = "gone" });
        await batch.LoadAsync("sha", Items(3));
        await batch.DeleteAsync();
        var outcomes = new SharedBatchOutcomes(batch, new RunCounters { Total = 3, AlreadyDone = 0 }, TimeProvider.System);

        var failure = await Assert.ThrowsAsync<IOException>(async () =>
        {
            await foreach (var _ in SharedBatchLines.TakeAsync(batch, outcomes, 8, () => false, TimeProvider.System).WithCancellation(CancellationToken.None))
            {
            }
        }).WaitAsync(Bound);

        Assert.Contains($"the batch gone is gone from Redis at {_redis.Configuration}", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ExplainsTheSharedBatch_WithAnExampleOnSeveralMachines()
    {
        var (_, output, _) = await InvokeAsync("run", "--help");

        Assert.Contains("--redis", output, StringComparison.Ordinal);
        Assert.Contains("--batch", output, StringComparison.Ordinal);
        Assert.Contains("--takeover-after", output, StringComparison.Ordinal);
        Assert.Contains("machine-2$ sluice run posts.jsonl --redis 10.0.0.5:6379 --batch posts-0612", output, StringComparison.Ordinal);
        Assert.Contains("sluice collect --redis 10.0.0.5:6379 --batch posts-0612", output, StringComparison.Ordinal);
    }

    private string Input(string name, int count)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllLines(path, Enumerable.Range(1, count).Select(i =>
            $$$"""{"custom_id":"r{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"{{{name}}} {{{i}}}"}]}}"""));
        return path;
    }

    private static async IAsyncEnumerable<Sluice.Redis.Batch.RedisBatchItem> Items(int count)
    {
        for (int i = 1; i <= count; i++)
        {
            await Task.Yield();
            yield return new Sluice.Redis.Batch.RedisBatchItem($"r{i}", i, "{}");
        }
    }

    private async Task<List<string>> RedisKeysAsync()
    {
        using var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.Configuration);
        return [.. connection.GetServer(connection.GetEndPoints()[0]).Keys().Select(key => key.ToString())];
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }
}
