using Microsoft.Extensions.Configuration;
using Sluice.Http;
using Sluice.Providers;
using Sluice.Spend;

namespace Sluice.Tests.Spend;

public sealed class PriceTableTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sluice-prices-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Default_LoadsTheShippedFile_Dated_WithInputAndOutputForEveryModel_AndASourcePerProvider()
    {
        var table = PriceTable.Default;

        Assert.True(table.AsOf >= new DateOnly(2025, 11, 1), $"as of {table.AsOf}");
        var entries = table.Entries.ToList();
        Assert.True(entries.Count >= 30, $"{entries.Count} models");
        foreach (var (provider, model, price) in entries)
        {
            Assert.True(price.InputPerMillion > 0, $"{provider} {model} input");
            Assert.True(price.OutputPerMillion >= 0, $"{provider} {model} output");
            Assert.True(price.CachedInputPerMillion is null || price.CachedInputPerMillion <= price.InputPerMillion, $"{provider} {model} cached");
            Assert.True(price.BatchInputPerMillion is null || price.BatchInputPerMillion <= price.InputPerMillion, $"{provider} {model} batch");
        }

        Assert.StartsWith("https://", table.SourceOf("openai"), StringComparison.Ordinal);
        Assert.StartsWith("https://", table.SourceOf("anthropic"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI, "gpt-4o", 2.50, 1.25, 10.00)]
    [InlineData(ProviderKind.OpenAI, "gpt-4o-mini", 0.15, 0.075, 0.60)]
    [InlineData(ProviderKind.OpenAI, "gpt-4.1-nano", 0.10, 0.025, 0.40)]
    [InlineData(ProviderKind.OpenAI, "gpt-5-mini", 0.25, 0.025, 2.00)]
    [InlineData(ProviderKind.OpenAI, "o4-mini", 1.10, 0.275, 4.40)]
    [InlineData(ProviderKind.Anthropic, "claude-sonnet-4-5", 3, 0.30, 15)]
    [InlineData(ProviderKind.Anthropic, "claude-opus-4-5", 5, 0.50, 25)]
    [InlineData(ProviderKind.Anthropic, "claude-3-5-haiku", 0.80, 0.08, 4)]
    public void Default_HoldsTheListPrices_AndHalfForBatches(ProviderKind provider, string model, double input, double cached, double output)
    {
        Assert.True(PriceTable.Default.TryFind(provider, model, out var price));

        Assert.Equal((decimal)input, price.InputPerMillion);
        Assert.Equal((decimal)cached, price.CachedInputPerMillion);
        Assert.Equal((decimal)output, price.OutputPerMillion);
        Assert.Equal((decimal)input / 2, price.BatchInputPerMillion);
        Assert.Equal((decimal)output / 2, price.BatchOutputPerMillion);
    }

    [Theory]
    [InlineData("gpt-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData("gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("GPT-4O", "gpt-4o")]
    [InlineData("o3-mini-2025-01-31", "o3-mini")]
    [InlineData("gpt-5-nano-2025-08-07", "gpt-5-nano")]
    public void TryFind_TakesTheExactName_ElseTheLongestListedNameFollowedByADash(string model, string listed)
    {
        Assert.True(PriceTable.Default.TryFind(ProviderKind.OpenAI, model, out var price));
        Assert.True(PriceTable.Default.TryFind(ProviderKind.OpenAI, listed, out var expected));
        Assert.Same(expected, price);
    }

    [Fact]
    public void TryFind_ForAnthropicSnapshots_PicksTheLongestPrefix()
    {
        Assert.True(PriceTable.Default.TryFind(ProviderKind.Anthropic, "claude-sonnet-4-5-20250929", out var sonnet45));
        Assert.True(PriceTable.Default.TryFind(ProviderKind.Anthropic, "claude-sonnet-4-20250514", out var sonnet4));
        Assert.True(PriceTable.Default.TryFind(ProviderKind.Anthropic, "claude-sonnet-4-5", out var listed45));
        Assert.True(PriceTable.Default.TryFind(ProviderKind.Anthropic, "claude-sonnet-4", out var listed4));
        Assert.Same(listed45, sonnet45);
        Assert.Same(listed4, sonnet4);
    }

    [Theory]
    [InlineData(ProviderKind.OpenAI, "gpt-4oo")]            // no dash after the listed name
    [InlineData(ProviderKind.OpenAI, "gpt")]                // shorter than every name
    [InlineData(ProviderKind.OpenAI, "my-fine-tune")]
    [InlineData(ProviderKind.OpenAI, "claude-sonnet-4-5")]  // another provider's model
    [InlineData(ProviderKind.Anthropic, "gpt-4o")]
    [InlineData(ProviderKind.OpenAI, "")]
    [InlineData(ProviderKind.OpenAI, null)]
    public void TryFind_NeverGuesses(ProviderKind provider, string? model) =>
        Assert.False(PriceTable.Default.TryFind(provider, model, out _));

    [Theory]
    [InlineData(ProviderKind.AzureOpenAI)]
    [InlineData(ProviderKind.OpenAICompatible)]
    public void TryFind_ForAzureAndCompatibleServers_UsesOpenAIsPrices(ProviderKind provider)
    {
        Assert.True(PriceTable.Default.TryFind(provider, "gpt-4o", out var price));
        Assert.Equal(2.50m, price.InputPerMillion);
    }

    [Fact]
    public void OverriddenBy_ReplacesListedModelsWhole_AddsNewOnes_KeepsTheRest_AndTakesTheLaterDate()
    {
        var user = PriceTable.Load(Write("""
            {
              "asOf": "2099-01-02",
              // a negotiated price, and a fine-tune
              "openai": { "models": {
                "gpt-4o": { "input": 2.00, "output": 8.00 },
                "ft:gpt-4o-mini:acme": { "input": 0.30, "output": 1.20, },
              } }
            }
            """));

        var table = PriceTable.Default.OverriddenBy(user);

        Assert.Equal(new DateOnly(2099, 1, 2), table.AsOf);
        Assert.True(table.TryFind(ProviderKind.OpenAI, "gpt-4o-2024-08-06", out var gpt4o));
        Assert.Equal((2.00m, (decimal?)null, 8.00m), (gpt4o.InputPerMillion, gpt4o.CachedInputPerMillion, gpt4o.OutputPerMillion));
        Assert.True(table.TryFind(ProviderKind.OpenAI, "ft:gpt-4o-mini:acme", out var fineTune));
        Assert.Equal(0.30m, fineTune.InputPerMillion);
        Assert.True(table.TryFind(ProviderKind.OpenAI, "gpt-4o-mini", out var mini));
        Assert.Equal(0.15m, mini.InputPerMillion);
        Assert.True(table.TryFind(ProviderKind.Anthropic, "claude-haiku-4-5", out _));
        Assert.True(PriceTable.Default.TryFind(ProviderKind.OpenAI, "gpt-4o", out var unchanged));
        Assert.Equal(2.50m, unchanged.InputPerMillion);
    }

    [Theory]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "openai": { "models": {
            "gpt-4o": { "input": -2.50, "output": 10 }
          } }
        }
        """, 4, "input of model 'gpt-4o' is negative: -2.50")]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "mistral": { "models": {} }
        }
        """, 3, "unknown provider 'mistral'")]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "openai": { "models": {
            "gpt-4o": { "input": 2.50 "output": 10 }
          } }
        }
        """, 4, "not valid JSON at column 31: '\"' is invalid after a value")]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "openai": { "models": {
            "gpt-4o": { "input": "2.50", "output": 10 }
          } }
        }
        """, 4, "input of model 'gpt-4o' must be a number of US dollars per million tokens, not \"2.50\"")]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "openai": { "models": {
            "gpt-4o": { "input": 2.50, "ouput": 10 }
          } }
        }
        """, 4, "unknown price 'ouput'")]
    [InlineData("""
        {
          "asOf": "2025-11-24",
          "openai": { "models": {
            "gpt-4o": { "input": 2.50 }
          } }
        }
        """, 4, "needs both \"input\" and \"output\"")]
    [InlineData("""
        {
          "asOf": "24/11/2025"
        }
        """, 2, "asOf must be a date")]
    [InlineData("""
        {
          "openai": { "models": {} }
        }
        """, 1, "no \"asOf\" date")]
    public void Load_NamesTheFileTheLineAndTheOffendingValue(string json, int line, string problem)
    {
        string path = Write(json);

        var error = Assert.Throws<PriceTableException>(() => PriceTable.Load(path));

        Assert.Equal(path, error.FilePath);
        Assert.Equal(line, error.Line);
        Assert.StartsWith($"{path}:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_AFileThatIsMissing_SaysSo()
    {
        string path = Path.Combine(_folder, "absent.json");

        var error = Assert.Throws<PriceTableException>(() => PriceTable.Load(path));

        Assert.Equal(path, error.FilePath);
        Assert.Null(error.Line);
        Assert.Contains("cannot be read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Configuration_BindsAPathToTheFileLaidOverTheShippedPrices()
    {
        string path = Write("""{ "asOf": "2099-01-01", "openai": { "models": { "ft:custom": { "input": 1, "output": 2 } } } }""");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sluice:Prices"] = path, ["Sluice:MaxSpendPerDay"] = "2.50" }).Build();

        var options = configuration.GetSection("Sluice").Get<SluiceHandlerOptions>()!;

        Assert.Equal(2.50m, options.MaxSpendPerDay);
        Assert.True(options.Prices!.TryFind(ProviderKind.OpenAI, "ft:custom", out _));
        Assert.True(options.Prices.TryFind(ProviderKind.OpenAI, "gpt-4o", out _));
    }

    [Fact]
    public void Configuration_WithABadPricesFile_SaysWhichLine()
    {
        string path = Write("{\n  \"asOf\": \"2099-01-01\",\n  \"groq\": {}\n}");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Sluice:Prices"] = path }).Build();

        var error = Assert.ThrowsAny<Exception>(() => configuration.GetSection("Sluice").Get<SluiceHandlerOptions>());

        var cause = Assert.IsType<PriceTableException>(error.InnerException);
        Assert.Equal(3, cause.Line);
    }

    private string Write(string json)
    {
        string path = Path.Combine(_folder, $"prices-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
