namespace Sluice.Proxy.Tests;

public sealed class SpendCacheOptionsTests
{
    private static IEnumerable<string> Problems(ProxyUpstream upstream)
    {
        var options = new SluiceProxyOptions();
        options.Upstreams.Add(upstream);
        return new SluiceProxyOptionsValidator().Validate(null, options).Failures ?? [];
    }

    [Fact]
    public void NonPositiveCaps_NamedWithUpstreamAndValue()
    {
        var problems = Problems(new ProxyUpstream { Name = "openai", Url = new Uri("http://127.0.0.1:1"), MaxSpendPerDay = 0m, MaxSpendPerClientPerDay = -2.5m }).ToList();

        Assert.Contains("Upstreams[openai]: MaxSpendPerDay must be more than 0 USD when set, not 0.", problems);
        Assert.Contains("Upstreams[openai]: MaxSpendPerClientPerDay must be more than 0 USD when set, not -2.5.", problems);
    }

    [Fact]
    public void PositiveCaps_Valid() =>
        Assert.Empty(Problems(new ProxyUpstream { Name = "openai", Url = new Uri("http://127.0.0.1:1"), MaxSpendPerDay = 0.01m, MaxSpendPerClientPerDay = 5m }));

    [Fact]
    public void CacheWithoutAResponseCache_NamedWithUpstream() =>
        Assert.Contains(
            "Upstreams[local]: Cache is true, but SluiceProxyOptions.Cache is not set: give the proxy a response cache.",
            Problems(new ProxyUpstream { Name = "local", Url = new Uri("http://127.0.0.1:1"), Cache = true }));
}
