namespace Sluice.Proxy.Tests;

public sealed class ProxyLimitsTests
{
    [Fact]
    public void ConcurrencyUnset_IsLearned_UpToTheAutoCeiling()
    {
        var limits = ProxyLimits.For(new ProxyUpstream { Name = "a", Url = new Uri("http://a") }, maxQueue: 7);

        Assert.Equal(ProxyLimits.AutoConcurrency, limits.MaxConcurrency);
        Assert.True(limits.AdaptiveConcurrency);
        Assert.Equal(7, limits.MaxQueueLength);
        Assert.Equal(TimeSpan.FromMinutes(1), limits.Window);
    }

    [Fact]
    public void ConcurrencyNumber_IsAFixedLimit()
    {
        var limits = ProxyLimits.For(new ProxyUpstream { Name = "a", Url = new Uri("http://a"), Concurrency = 12 }, maxQueue: 10);

        Assert.Equal(12, limits.MaxConcurrency);
        Assert.False(limits.AdaptiveConcurrency);
    }

    [Fact]
    public void ModelGroupLimits_FallBackToTheUpstreams()
    {
        var upstream = new ProxyUpstream { Name = "a", Url = new Uri("http://a"), RequestsPerMinute = 100, TokensPerMinute = 1_000, Concurrency = 8 };

        var limits = ProxyLimits.For(upstream, new ModelBudget("m", RequestsPerMinute: 10), maxQueue: 50);

        Assert.Equal(10, limits.RequestsPerWindow);
        Assert.Equal(1_000, limits.TokensPerWindow);
        Assert.Equal(8, limits.MaxConcurrency);
        Assert.Equal(50, limits.MaxQueueLength);
    }

    [Fact]
    public void ExtraBudgets_ApplyToEveryPartition_ModelGroupsIncluded()
    {
        var upstream = new ProxyUpstream
        {
            Name = "a",
            Url = new Uri("http://a"),
            InputTokensPerMinute = 40_000,
            OutputTokensPerMinute = 8_000,
            RequestsPerDay = 10_000,
            TokensPerDay = 2_000_000,
        };

        foreach (var limits in new[] { ProxyLimits.For(upstream, 1), ProxyLimits.For(upstream, new ModelBudget("m"), 1) })
        {
            Assert.Equal(40_000, limits.InputTokensPerWindow);
            Assert.Equal(8_000, limits.OutputTokensPerWindow);
            Assert.Equal(10_000, limits.RequestsPerDay);
            Assert.Equal(2_000_000, limits.TokensPerDay);
        }
    }
}
