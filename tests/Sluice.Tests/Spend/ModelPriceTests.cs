using Sluice.Spend;

namespace Sluice.Tests.Spend;

public sealed class ModelPriceTests
{
    private static readonly ModelPrice Gpt4o = new()
    {
        InputPerMillion = 2.50m,
        CachedInputPerMillion = 1.25m,
        OutputPerMillion = 10.00m,
        BatchInputPerMillion = 1.25m,
        BatchOutputPerMillion = 5.00m,
    };

    [Fact]
    public void CostOf_PricesInputAndOutputPerMillion_Exactly()
    {
        Assert.Equal(2.50m + 10.00m, Gpt4o.CostOf(1_000_000, 1_000_000));
        Assert.Equal(0.0000025m * 1234 + 0.00001m * 567, Gpt4o.CostOf(1234, 567));
        Assert.Equal(0m, Gpt4o.CostOf(0, 0));
    }

    [Fact]
    public void CostOf_PricesTheCachedPartOfTheInputAtTheCachedRate()
    {
        // 1,000 input tokens of which 600 cached: 400 at 2.50 and 600 at 1.25 per million.
        Assert.Equal((400 * 2.50m + 600 * 1.25m) / 1_000_000m, Gpt4o.CostOf(1000, 0, cachedInputTokens: 600));
    }

    [Fact]
    public void CostOf_WithoutACachedPrice_PricesCachedTokensAsInput()
    {
        var price = Gpt4o with { CachedInputPerMillion = null };

        Assert.Equal(price.CostOf(1000, 10), price.CostOf(1000, 10, cachedInputTokens: 1000));
    }

    [Fact]
    public void CostOf_ForABatch_UsesTheBatchPrices_OrTheLiveOnesWhereThereAreNone()
    {
        Assert.Equal(1.25m + 5.00m, Gpt4o.CostOf(1_000_000, 1_000_000, batch: true));
        var noBatch = Gpt4o with { BatchInputPerMillion = null, BatchOutputPerMillion = null };
        Assert.Equal(noBatch.CostOf(1_000_000, 1_000_000), noBatch.CostOf(1_000_000, 1_000_000, batch: true));
    }

    [Fact]
    public void CostOf_RefusesNegativeCounts_AndMoreCachedThanRead()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt4o.CostOf(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt4o.CostOf(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt4o.CostOf(10, 0, cachedInputTokens: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt4o.CostOf(10, 0, cachedInputTokens: 11));
    }

    [Fact]
    public void CostOf_HoldsTheLargestCounts_WithoutOverflow() =>
        Assert.Equal(long.MaxValue * (1.25m + 10.00m) / 1_000_000m, Gpt4o.CostOf(long.MaxValue, long.MaxValue, cachedInputTokens: long.MaxValue));
}
