using System.CommandLine;
using System.Text.Json;
using Sluice.Tests.Support;

namespace Sluice.Cli.Tests.Collect;

/// <summary>
/// <c>sluice collect</c> against a real redis-server: writes a complete batch's results in input order, refuses an
/// unfinished one saying how many lines are left, and names a batch that is not there.
/// </summary>
public sealed class CollectCommandTests : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-collect-").FullName;
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await RedisServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Collect_ACompleteBatch_WritesOneLinePerCustomIdInInputOrder_ThenDeletesIt()
    {
        string input = Input(12);
        var run = await InvokeAsync("run", input, "-o", Path.Combine(_directory, "worker.jsonl"), "--mock", "--redis", _redis.Configuration, "--batch", "c1");
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        string results = Path.Combine(_directory, "collected.jsonl");

        var (exitCode, output, error) = await InvokeAsync("collect", "--redis", _redis.Configuration, "--batch", "c1", "-o", results, "--delete");

        Assert.True(exitCode == 0, output + error);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => $"r{i}"), File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("custom_id").GetString()));
        Assert.Equal(File.ReadAllText(Path.Combine(_directory, "worker.jsonl")), File.ReadAllText(results));
        Assert.Equal("", File.ReadAllText(Path.Combine(_directory, "collected.errors.jsonl")));
        Assert.Contains("12 results written", output, StringComparison.Ordinal);

        // Deleted: collecting again finds no batch.
        var again = await InvokeAsync("collect", "--redis", _redis.Configuration, "--batch", "c1", "-o", results);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("holds no batch named c1", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Collect_AnUnfinishedBatch_IsRefused_SayingHowManyAreLeft_Exit3_AndWritesNothing()
    {
        await using var batch = await Sluice.Redis.Batch.RedisBatch.ConnectAsync(new Sluice.Redis.Batch.RedisBatchOptions { Configuration = _redis.Configuration, Name = "half" });
        await batch.LoadAsync("sha", Items(10));
        foreach (var line in await batch.TakeAsync(3))
        {
            await batch.RecordAsync(line, "{}", failed: false);
        }

        string results = Path.Combine(_directory, "half.jsonl");
        var (exitCode, _, error) = await InvokeAsync("collect", "--redis", _redis.Configuration, "--batch", "half", "-o", results);

        Assert.Equal(3, exitCode);
        Assert.Contains("the batch half is not finished: 7 of 10 lines have no result yet", error, StringComparison.Ordinal);
        Assert.False(File.Exists(results));
    }

    [Fact]
    public async Task Collect_WithoutRedis_OrWhenRedisIsDown_IsOneLine_Exit2()
    {
        string results = Path.Combine(_directory, "x.jsonl");
        var missing = await InvokeAsync("collect", "--batch", "x", "-o", results);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--redis HOST:PORT is required", missing.Error, StringComparison.Ordinal);

        await _redis.StopAsync();
        var down = await InvokeAsync("collect", "--redis", $"{_redis.Configuration},password=hunter2-secret", "--batch", "x", "-o", results);
        Assert.Equal(2, down.ExitCode);
        Assert.Equal($"sluice collect: cannot reach Redis at {_redis.Configuration}; check --redis and that Redis is running", down.Error.Trim());
    }

    private static async IAsyncEnumerable<Sluice.Redis.Batch.RedisBatchItem> Items(int count)
    {
        for (int i = 1; i <= count; i++)
        {
            await Task.Yield();
            yield return new Sluice.Redis.Batch.RedisBatchItem($"r{i}", i, "{}");
        }
    }

    private string Input(int count)
    {
        string path = Path.Combine(_directory, "in.jsonl");
        File.WriteAllLines(path, Enumerable.Range(1, count).Select(i =>
            $$$"""{"custom_id":"r{{{i}}}","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi {{{i}}}"}]}}"""));
        return path;
    }

    private static async Task<(int ExitCode, string Output, string Error)> InvokeAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await SluiceCommandLine.InvokeAsync(args, new InvocationConfiguration { Output = output, Error = error }).WaitAsync(Bound);
        return (exitCode, output.ToString(), error.ToString());
    }
}
