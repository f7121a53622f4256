using System.Text;
using System.Text.Json;
using Sluice.Cli.Run;

namespace Sluice.Cli.Tests.Run;

/// <summary>The cost figures of a run: the results line's <c>sluice</c> metadata, the projection, the config keys.</summary>
public sealed class RunCostFiguresTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-cost-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void OutputLine_CarriesSluiceMetadata_BesideTheAnswer_NotInItsBody()
    {
        var answer = new ProviderAnswer(200, "req_1", Encoding.UTF8.GetBytes("""{"id":"chatcmpl-1","usage":{"total_tokens":3}}"""));

        using var line = JsonDocument.Parse(OutputLine.Create("batch_req_1", "post-1", answer, error: null, new LineMeta(0.000123000000m, Cached: false)));

        var root = line.RootElement;
        Assert.Equal(["id", "custom_id", "response", "error", "sluice"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("""{"cost":0.000123,"cached":false}""", root.GetProperty("sluice").GetRawText());
        Assert.False(root.GetProperty("response").GetProperty("body").TryGetProperty("sluice", out _));
    }

    [Fact]
    public void OutputLine_UnknownCost_IsNull_AndACacheHitSaysSo()
    {
        using var unknown = JsonDocument.Parse(OutputLine.Create("r1", "a", null, ("x", "y"), new LineMeta(null, Cached: false)));
        using var cached = JsonDocument.Parse(OutputLine.Create("r2", "b", null, null, new LineMeta(0m, Cached: true)));

        Assert.Equal("""{"cost":null,"cached":false}""", unknown.RootElement.GetProperty("sluice").GetRawText());
        Assert.Equal("""{"cost":0,"cached":true}""", cached.RootElement.GetProperty("sluice").GetRawText());
    }

    [Fact]
    public void Projection_IsSpentPerAnswer_TimesTheLinesToDo_CacheHitsCountingAsFree()
    {
        var counters = new RunCounters { Total = 110, AlreadyDone = 10 };
        Assert.Null(counters.Projected());

        counters.Paid(0.02m, cached: false, tokens: 100, saved: null);
        counters.Paid(0.04m, cached: false, tokens: 100, saved: null);
        counters.Paid(0m, cached: true, tokens: 150, saved: 0.03m);
        counters.Paid(null, cached: false, tokens: 10, saved: null);

        Assert.Equal(0.06m, counters.Spent);
        Assert.Equal(3, counters.Priced);
        Assert.Equal(4, counters.Answered);
        Assert.Equal(2.00m, counters.Projected());
        Assert.Equal(1, counters.CacheHits);
        Assert.Equal(150, counters.SavedTokens);
        Assert.Equal(0.03m, counters.Saved);
    }

    [Fact]
    public void ConfigFile_ReadsTheSpendAndCacheSettings()
    {
        string path = Path.Combine(_directory, "c.json");
        File.WriteAllText(path, """{ "prices": "p.json", "max_spend": 5.5, "cache": "c.db", "cache_max_size": "500MB", "cache_max_age": "7d" }""");

        var config = RunConfigFile.Read(path);

        Assert.Equal("p.json", config.Prices);
        Assert.Equal(5.5m, config.MaxSpend);
        Assert.Equal("c.db", config.Cache);
        Assert.Equal(500L << 20, config.CacheMaxBytes);
        Assert.Equal(TimeSpan.FromDays(7), config.CacheMaxAge);
    }

    [Theory]
    [InlineData("""{ "max_spend": 0 }""", "\"max_spend\" must be an amount in US dollars more than 0")]
    [InlineData("""{ "cache_max_size": "lots" }""", "'lots' is not a size")]
    [InlineData("""{ "cache_max_age": "0" }""", "'0' is not a duration more than 0")]
    public void ConfigFile_BadSpendOrCacheValue_NamesIt(string json, string expected)
    {
        string path = Path.Combine(_directory, "bad.json");
        File.WriteAllText(path, json);

        var problem = Assert.Throws<FormatException>(() => RunConfigFile.Read(path));

        Assert.Contains(expected, problem.Message, StringComparison.Ordinal);
    }
}
