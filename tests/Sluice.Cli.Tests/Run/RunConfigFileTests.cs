using Sluice.Cli.Run;
using Sluice.Providers;

namespace Sluice.Cli.Tests.Run;

public sealed class RunConfigFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("sluice-run-config-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string json)
    {
        string path = Path.Combine(_directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Read_EverySetting()
    {
        var config = RunConfigFile.Read(Write("""
            {
              // comments and trailing commas are allowed
              "base_url": "https://api.openai.com/v1",
              "api_key_env": "MY_KEY",
              "provider": "anthropic",
              "rpm": 500, "tpm": 200000, "concurrency": 16, "max_attempts": 7, "timeout": "90s",
            }
            """));

        Assert.Equal(new RunConfigFile
        {
            BaseUrl = "https://api.openai.com/v1",
            ApiKeyEnv = "MY_KEY",
            Provider = ProviderKind.Anthropic,
            RequestsPerMinute = 500,
            TokensPerMinute = 200_000,
            Concurrency = 16,
            MaxAttempts = 7,
            Timeout = TimeSpan.FromSeconds(90),
        }, config);
    }

    [Theory]
    [InlineData("""{"rpm": 0}""", "\"rpm\" must be a whole number at least 1, not 0")]
    [InlineData("""{"rpm": "fast"}""", "\"rpm\" must be a whole number at least 1, not \"fast\"")]
    [InlineData("""{"timeout": "soon"}""", "\"timeout\": 'soon' is not a duration")]
    [InlineData("""{"provider": "cohere"}""", "\"provider\" must be openai, azure, anthropic or compatible")]
    [InlineData("""{"api_key": "sk-123"}""", "unknown setting \"api_key\"")]
    [InlineData("""[1]""", "must hold one JSON object")]
    [InlineData("""{"rpm": """, "is not valid JSON")]
    public void Read_AMistake_NamesTheFileAndTheSetting(string json, string expected)
    {
        string path = Write(json);

        var refused = Assert.Throws<FormatException>(() => RunConfigFile.Read(path));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.Contains(path, refused.Message, StringComparison.Ordinal);
    }
}
