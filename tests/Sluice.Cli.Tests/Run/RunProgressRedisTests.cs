using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Sluice.Cli.Run;
using Sluice.Redis.Gate;

namespace Sluice.Cli.Tests.Run;

/// <summary>With <c>--redis</c>, the progress line, the summary and the JSON events say whether the budgets are shared or this process runs on its share.</summary>
public sealed class RunProgressRedisTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static RunSettings Settings(string? redis) => new()
    {
        InputPath = "in.jsonl",
        ResultsPath = "out.jsonl",
        ErrorsPath = "out.errors.jsonl",
        JournalPath = "out.jsonl.journal",
        BaseUrl = new Uri("http://127.0.0.1:1/"),
        RequestsPerMinute = 600,
        Redis = redis,
    };

    private static RunProgress Progress(RedisGateStatus? status, string? redis = "redis://:s3cret@cache.internal:6390", bool json = false) =>
        new(new RunCounters { Total = 10, AlreadyDone = 0 }, Settings(redis) with { Json = json }, new FakeTimeProvider(Now), TextWriter.Null, live: false)
        {
            Sharing = status is null ? null : () => status,
        };

    [Fact]
    public void Shared_TheLineSaysByHowMany()
    {
        string line = Progress(new RedisGateStatus(Shared: true, Members: 4, Since: Now.AddMinutes(-3))).StatusLine();

        Assert.EndsWith(" · redis shared by 4", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Away_TheLineSaysForHowLong_AndOnWhatShare()
    {
        string line = Progress(new RedisGateStatus(Shared: false, Members: 4, Since: Now.AddSeconds(-12.7))).StatusLine();

        Assert.EndsWith(" · redis away for 12s, 1/4 of each budget here", line, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutRedis_NothingIsSaid()
    {
        string line = Progress(status: null, redis: null).StatusLine();

        Assert.DoesNotContain("redis", line, StringComparison.Ordinal);
        Assert.DoesNotContain("redis", Progress(status: null, redis: null).Summary(0, null, 10, 0), StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_SaysWhereRedisIs_WithoutThePassword()
    {
        string summary = Progress(new RedisGateStatus(Shared: true, Members: 2, Since: Now)).Summary(0, null, 10, 0);

        Assert.Contains("  budgets through Redis at cache.internal:6390: redis shared by 2 at the end", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", summary, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonEvents_CarryTheMode()
    {
        var progress = Progress(new RedisGateStatus(Shared: false, Members: 3, Since: Now.AddSeconds(-5)), json: true);

        using var summary = JsonDocument.Parse(progress.Summary(0, null, 10, 0));
        var redis = summary.RootElement.GetProperty("redis");

        Assert.False(redis.GetProperty("shared").GetBoolean());
        Assert.Equal(3, redis.GetProperty("members").GetInt32());
        Assert.Equal(Now.AddSeconds(-5), redis.GetProperty("since").GetDateTimeOffset());
    }
}
