using Sluice.Cli.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxySpendCacheSettingsTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoVariables = [];

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-proxy-spend-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static ProxySettings Resolve(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        ProxySettingsResolver.Resolve(arguments, config ?? new ProxyConfigFile(), _ => null);

    private static string Error(ProxyArguments arguments, ProxyConfigFile? config = null) =>
        Assert.Throws<FormatException>(() => Resolve(arguments, config)).Message;

    [Fact]
    public void ConfigFile_SpendAndCachePerUpstream()
    {
        string cache = Path.Combine(_directory, "cache.db");
        string file = Write("sluice.json", $$"""
            {
              "cache_file": "{{cache.Replace("\\", "\\\\", StringComparison.Ordinal)}}", "cache_max_size": "500MB", "cache_max_age": "168h",
              "upstreams": {
                "openai": { "url": "https://api.openai.com", "default": true, "max_spend_per_day": 25, "max_spend_per_client_per_day": "$2.50",
                            "cache": true },
                "local": { "url": "http://127.0.0.1:8000/v1", "cache_any_temperature": true },
              },
            }
            """);

        var settings = Resolve(new ProxyArguments(), ProxyConfigFile.Read(file, NoVariables));

        var openai = settings.Upstreams.Single(u => u.Name == "openai");
        Assert.Equal((25m, 2.50m, true, false), (openai.MaxSpendPerDay, openai.MaxSpendPerClientPerDay, openai.Cache, openai.CacheAnyTemperature));
        var local = settings.Upstreams.Single(u => u.Name == "local");
        Assert.Equal((null, null, false, true), (local.MaxSpendPerDay, local.MaxSpendPerClientPerDay, local.Cache, local.CacheAnyTemperature));
        Assert.Equal(cache, settings.CacheFile);
        Assert.Equal(500L * 1024 * 1024, settings.CacheMaxBytes);
        Assert.Equal(TimeSpan.FromDays(7), settings.CacheMaxAge);
    }

    [Fact]
    public void Defaults_NoCapsNoCache()
    {
        var settings = Resolve(new ProxyArguments { Upstream = "https://api.openai.com" });

        var upstream = Assert.Single(settings.Upstreams);
        Assert.Equal((null, null, false, false), (upstream.MaxSpendPerDay, upstream.MaxSpendPerClientPerDay, upstream.Cache, upstream.CacheAnyTemperature));
        Assert.Null(settings.CacheFile);
        Assert.Null(settings.PricesFile);
        Assert.Equal(1024L * 1024 * 1024, settings.CacheMaxBytes);
        Assert.Equal(TimeSpan.FromDays(30), settings.CacheMaxAge);
    }

    [Fact]
    public void Options_DescribeTheSingleUpstream_AndWinOverTheFile()
    {
        var config = new ProxyConfigFile { Single = new UpstreamConfig("") { Url = "http://file", Spend = new SpendAndCache(9m, 1m, null, true) } };

        var settings = Resolve(new ProxyArguments { Spend = new SpendAndCache(3m, null, true, null), CacheFile = Path.Combine(_directory, "c.db") }, config);

        var upstream = Assert.Single(settings.Upstreams);
        Assert.Equal((3m, 1m, true, true), (upstream.MaxSpendPerDay, upstream.MaxSpendPerClientPerDay, upstream.Cache, upstream.CacheAnyTemperature));
    }

    [Theory]
    [InlineData("\"max_spend_per_day\": \"lots\"", "setting \"upstreams:openai:max_spend_per_day\" must be an amount in USD more than 0 (such as 5 or 0.50), not 'lots'")]
    [InlineData("\"max_spend_per_client_per_day\": 0", "setting \"upstreams:openai:max_spend_per_client_per_day\" must be an amount in USD more than 0 (such as 5 or 0.50), not '0'")]
    [InlineData("\"max_spend_per_day\": -1", "not '-1'")]
    [InlineData("\"cache\": \"yes\"", "setting \"upstreams:openai:cache\" must be true or false, not 'yes'")]
    [InlineData("\"cache_any_temperature\": 1", "setting \"upstreams:openai:cache_any_temperature\" must be true or false, not '1'")]
    [InlineData("\"max_spend\": 5", "unknown setting \"upstreams:openai:max_spend\"")]
    public void ConfigFile_BadValue_NamesUpstreamAndValue(string setting, string expected)
    {
        string file = Write("bad.json", $$"""{ "upstreams": { "openai": { "url": "https://api.openai.com", {{setting}} } } }""");

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(file, NoVariables));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(file, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"cache_max_size\": \"12\"", "setting \"cache_max_size\" must be a size of at least 1MB, written like 500MB or 2GB, not '12'")]
    [InlineData("\"cache_max_age\": \"forever\"", "setting \"cache_max_age\": 'forever' is not a duration")]
    public void ConfigFile_BadCacheSetting_Named(string setting, string expected)
    {
        string file = Write("bad.json", $$"""{ {{setting}} }""");

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(file, NoVariables));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CacheTrue_WithoutCacheFile_NamesTheUpstream()
    {
        var config = new ProxyConfigFile { Upstreams = [new UpstreamConfig("openai") { Url = "https://api.openai.com", Spend = new SpendAndCache(null, null, true, null) }] };

        Assert.Equal("upstream 'openai' says \"cache\": true, but there is no cache file: add --cache FILE (or \"cache_file\" in the config file)", Error(new ProxyArguments(), config));
        Assert.Equal("--cache-all needs a cache file: add --cache FILE", Error(new ProxyArguments { Upstream = "http://a", Spend = new SpendAndCache(null, null, true, null) }));
    }

    [Fact]
    public void CacheTuning_WithoutCacheFile_Refused() =>
        Assert.StartsWith("--cache-max-size and --cache-max-age describe the cache file", Error(new ProxyArguments { Upstream = "http://a", CacheMaxBytes = 10L * 1024 * 1024 }), StringComparison.Ordinal);

    [Fact]
    public void SpendOptions_WithoutUpstream_Refused() =>
        Assert.Contains("--max-spend-per-day", Error(new ProxyArguments { Spend = new SpendAndCache(5m, null, null, null) }), StringComparison.Ordinal);

    [Fact]
    public void MissingPricesFile_Named()
    {
        string missing = Path.Combine(_directory, "prices.json");

        Assert.Equal($"--prices: cannot read the prices file {missing}: it does not exist", Error(new ProxyArguments { Upstream = "http://a", Prices = missing }));
    }

    [Theory]
    [InlineData("5", 5)]
    [InlineData("0.25", 0.25)]
    [InlineData("$12.50", 12.50)]
    public void Usd_Parsed(string text, decimal expected)
    {
        Assert.True(ProxyValueText.TryParseUsd(text, out decimal amount));
        Assert.Equal(expected, amount);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("1e3")]
    [InlineData("five")]
    [InlineData("2000000000")]
    public void Usd_Refused(string text) => Assert.False(ProxyValueText.TryParseUsd(text, out _));

    [Theory]
    [InlineData("500MB", 500L * 1024 * 1024)]
    [InlineData("2GB", 2L * 1024 * 1024 * 1024)]
    [InlineData("1.5G", 3L * 512 * 1024 * 1024)]
    [InlineData("1048576", 1024L * 1024)]
    public void Size_Parsed(string text, long expected)
    {
        Assert.True(ProxyValueText.TryParseSize(text, out long bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("12")]
    [InlineData("0MB")]
    [InlineData("big")]
    [InlineData("-5GB")]
    public void Size_Refused(string text) => Assert.False(ProxyValueText.TryParseSize(text, out _));
}
