using Sluice.Cli.BatchApi;
using Sluice.Cli.Run;
using Sluice.Providers;

namespace Sluice.Cli.Tests.BatchApi;

public sealed class BatchApiCommandOptionsTests
{
    private static readonly RunArguments Auto = new() { Input = "in.jsonl", Via = "auto", Provider = ProviderKind.OpenAI };

    [Fact]
    public void Auto_WithADeadlineOfAtLeast24h_ChoosesTheBatchApi_AndSaysWhy()
    {
        var (chosen, why) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromHours(24) });

        Assert.Equal("batch-api", chosen.Via);
        Assert.Contains("allows its 24h completion window", why, StringComparison.Ordinal);
        Assert.Null(BatchApiCommandOptions.Problem(chosen));
    }

    [Fact]
    public void Auto_WithAShorterDeadline_ChoosesLive_AndSaysWhy()
    {
        var (chosen, why) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromHours(2) });

        Assert.Equal("live", chosen.Via);
        Assert.Contains("is shorter than the Batch API's 24h completion window", why, StringComparison.Ordinal);
        Assert.Null(BatchApiCommandOptions.Problem(chosen));
    }

    [Fact]
    public void Auto_TheBatchApiChosenByTheDeadline_StaysWhenItCostsLess_WithBothFigures()
    {
        var (byDeadline, why) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromDays(2) });

        var (chosen, weighed) = BatchApiCommandOptions.Weigh(byDeadline, why!, liveWorstCase: 0.40m, batchWorstCase: 0.20m, allPriced: true);

        Assert.Equal("batch-api", chosen.Via);
        Assert.Contains("$0.40 live, $0.20 at batch prices: up to $0.20 saved", weighed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 0, "no line's model has a price")]
    [InlineData(0.4, 0.4, "no line's model is cheaper at batch prices")]
    public void Auto_TheBatchApiChosenByTheDeadline_GivesWayToLive_WhenNoSavingIsKnown(double live, double batch, string reason)
    {
        var (byDeadline, why) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromDays(2) });

        var (chosen, weighed) = BatchApiCommandOptions.Weigh(byDeadline, why!, (decimal)live, (decimal)batch, allPriced: live > 0);

        Assert.Equal("live", chosen.Via);
        Assert.Contains(reason, weighed, StringComparison.Ordinal);
        Assert.Null(BatchApiCommandOptions.Problem(chosen));
    }

    [Fact]
    public void Auto_WhenAnOptionRulesOutTheBatchApi_ChoosesLive_NamingIt()
    {
        var (chosen, why) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromDays(2), Redis = "localhost:6379" });

        Assert.Equal("live", chosen.Via);
        Assert.Contains("--redis", why, StringComparison.Ordinal);
    }

    [Fact]
    public void ASpendCap_DoesNotRuleOutTheBatchApi()
    {
        var (chosen, _) = BatchApiCommandOptions.Choose(Auto with { Deadline = TimeSpan.FromDays(2), MaxSpend = 5m });

        Assert.Equal("batch-api", chosen.Via);
        Assert.Null(BatchApiCommandOptions.Problem(chosen));
    }

    [Theory]
    [InlineData("auto", null, null, "needs --deadline")]
    [InlineData("live", 2.0, null, "--deadline applies to --via auto only")]
    [InlineData("live", null, 1.0, "apply to --via batch-api only")]
    [InlineData("batch-api", null, 0.001, "--poll-interval must be from 10ms to 1h")]
    public void Problem_NamesTheOptionThatDoesNotFit(string via, double? deadlineHours, double? pollSeconds, string expected)
    {
        var arguments = new RunArguments
        {
            Input = "in.jsonl",
            Via = via,
            Deadline = deadlineHours is { } h ? TimeSpan.FromHours(h) : null,
            PollInterval = pollSeconds is { } s ? TimeSpan.FromSeconds(s) : null,
        };

        Assert.Contains(expected, BatchApiCommandOptions.Problem(arguments), StringComparison.Ordinal);
    }

    [Fact]
    public void BatchApi_AzureIsRefused_AnthropicAndCompatibleAreNot()
    {
        Assert.Contains("Azure OpenAI's batches are not supported", BatchApiCommandOptions.Problem(new RunArguments { Input = "in.jsonl", Via = "batch-api", Provider = ProviderKind.AzureOpenAI }), StringComparison.Ordinal);
        Assert.Null(BatchApiCommandOptions.Problem(new RunArguments { Input = "in.jsonl", Via = "batch-api", Provider = ProviderKind.Anthropic }));
        Assert.Null(BatchApiCommandOptions.Problem(new RunArguments { Input = "in.jsonl", Via = "batch-api", Provider = ProviderKind.OpenAICompatible }));
    }
}
