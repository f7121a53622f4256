using Sluice.Cli.Proxy;
using Sluice.Providers;
using Sluice.Proxy;

namespace Sluice.Cli.Tests.Proxy;

public sealed class ProxyConfigFileTests : IDisposable
{
    private static readonly Dictionary<string, string?> NoVariables = [];

    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-proxy-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    private const string SeveralUpstreams = """
        {
          // comments and trailing commas are allowed
          "listen": "127.0.0.1:9000",
          "max_wait": "2m",
          "max_queue": 500,
          "max_queue_total": 900, "max_partitions": 50, "partition_idle": "90s", "max_models": 0,
          "upstreams": {
            "openai": { "url": "https://api.openai.com", "api_key_env": "OPENAI_API_KEY", "rpm": 5000, "tpm": 800000, "default": true,
                        "models": { "gpt-4o": { "rpm": 500, "tpm": 30000 } } },
            "anthropic": { "url": "https://api.anthropic.com", "provider": "anthropic", "api_key_env": "ANTHROPIC_API_KEY",
                           "prefix": "/anthropic", "paths": ["/v1/messages"], "concurrency": "auto",
                           "models": { "claude-*": { "rpm": 1000, "concurrency": 20 } } },
            "local": { "url": "http://127.0.0.1:8000/v1", "provider": "compatible", "concurrency": 4, "models": { "llama-*": {} } },
          },
        }
        """;

    [Fact]
    public void Read_SeveralUpstreams()
    {
        var config = ProxyConfigFile.Read(Write(SeveralUpstreams), NoVariables);

        Assert.Equal("127.0.0.1:9000", config.Listen);
        Assert.Equal(TimeSpan.FromMinutes(2), config.MaxWait);
        Assert.Equal(500, config.MaxQueue);
        Assert.Equal((900, 50, TimeSpan.FromSeconds(90), 0), (config.MaxQueueTotal, config.MaxPartitions, config.PartitionIdle, config.MaxModels));
        Assert.Equal(3, config.Upstreams.Count);
        var anthropic = config.Upstreams.Single(u => u.Name == "anthropic");
        Assert.Equal(ProviderKind.Anthropic, anthropic.Provider);
        Assert.Equal("/anthropic", anthropic.Prefix);
        Assert.Equal(["/v1/messages"], anthropic.Paths);
        Assert.Null(anthropic.Concurrency);
        Assert.Equal(new ModelBudget("claude-*", 1_000, null, 20), Assert.Single(anthropic.Models));
        var openai = config.Upstreams.Single(u => u.Name == "openai");
        Assert.True(openai.IsDefault);
        Assert.Equal(new ModelBudget("gpt-4o", 500, 30_000), Assert.Single(openai.Models));
        Assert.Equal(4, config.Upstreams.Single(u => u.Name == "local").Concurrency);
    }

    [Fact]
    public void EnvironmentVariables_OverrideTheFile()
    {
        var config = ProxyConfigFile.Read(Write(SeveralUpstreams), new Dictionary<string, string?>
        {
            ["SLUICE_PROXY_UPSTREAMS__OPENAI__RPM"] = "42",
            ["SLUICE_PROXY_MAX_WAIT"] = "30s",
            ["OTHER_VARIABLE"] = "ignored",
        });

        Assert.Equal(42, config.Upstreams.Single(u => u.Name == "openai").RequestsPerMinute);
        Assert.Equal(TimeSpan.FromSeconds(30), config.MaxWait);
    }

    [Fact]
    public void NoFile_VariablesAlone()
    {
        var config = ProxyConfigFile.Read(null, new Dictionary<string, string?> { ["SLUICE_PROXY_UPSTREAM"] = "http://127.0.0.1:8000", ["SLUICE_PROXY_RPM"] = "60" });

        Assert.Equal("http://127.0.0.1:8000", config.Single.Url);
        Assert.Equal(60, config.Single.RequestsPerMinute);
    }

    [Theory]
    [InlineData("""{ "rpn": 5 }""", "unknown setting \"rpn\"")]
    [InlineData("""{ "upstreams": { "a": { "url": "http://x", "rmp": 5 } } }""", "unknown setting \"upstreams:a:rmp\"")]
    [InlineData("""{ "upstreams": { "a": { "models": { "m": { "tmp": 1 } } } } }""", "unknown setting \"upstreams:a:models:m:tmp\"")]
    [InlineData("""{ "rpm": "lots" }""", "setting \"rpm\" must be a whole number at least 1, not 'lots'")]
    [InlineData("""{ "upstreams": { "a": { "tpm": 0 } } }""", "setting \"upstreams:a:tpm\" must be a whole number at least 1, not '0'")]
    [InlineData("""{ "max_wait": "soon" }""", "setting \"max_wait\": 'soon' is not a duration")]
    [InlineData("""{ "upstreams": { "a": { "provider": "gemini" } } }""", "must be openai, azure, anthropic or compatible, not 'gemini'")]
    [InlineData("""{ "upstreams": { "a": { "default": "yes" } } }""", "must be true or false, not 'yes'")]
    public void Mistakes_NameTheFileAndTheSetting(string json, string expected)
    {
        string path = Write(json);

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(path, NoVariables));

        Assert.Contains($"config file {path}", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadValueFromAVariable_NamesTheVariable()
    {
        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(Write(SeveralUpstreams), new Dictionary<string, string?> { ["SLUICE_PROXY_UPSTREAMS__OPENAI__RPM"] = "x" }));

        Assert.Contains("environment variable SLUICE_PROXY_UPSTREAMS__OPENAI__RPM", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJson_NamesTheFile()
    {
        string path = Write("{ \"rpm\": ");

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(path, NoVariables));

        Assert.StartsWith($"the config file {path} is not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_SaysSo()
    {
        string path = Path.Combine(_directory, "nope.json");

        var error = Assert.Throws<FormatException>(() => ProxyConfigFile.Read(path, NoVariables));

        Assert.Equal($"cannot read the config file {path}: it does not exist", error.Message);
    }
}
