using Microsoft.Extensions.Time.Testing;
using Sluice.Spend;

namespace Sluice.Proxy.Tests;

public sealed class ProxySpendTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateOnly AsOf = new(2025, 11, 24);

    private static ProxyUpstream Upstream(decimal? perDay, decimal? perClient) =>
        new() { Name = "openai", Url = new Uri("http://127.0.0.1:1"), MaxSpendPerDay = perDay, MaxSpendPerClientPerDay = perClient };

    [Fact]
    public void NoCaps_NoCapsForAnyClient()
    {
        var spend = new ProxySpend(Upstream(null, null), 10, new FakeTimeProvider(Noon));

        Assert.False(spend.IsCapped);
        Assert.Null(spend.CapsFor("abc"));
    }

    [Fact]
    public void CapsFor_UpstreamFirst_ThenTheClientsOwn_SharedUpstreamCap()
    {
        var spend = new ProxySpend(Upstream(5m, 1m), 10, new FakeTimeProvider(Noon));

        var a = spend.CapsFor("aaaa")!;
        var b = spend.CapsFor("bbbb")!;

        Assert.Equal(2, a.Count);
        Assert.Same(spend.UpstreamCap, a[0]);
        Assert.Same(a[0], b[0]);
        Assert.NotSame(a[1], b[1]);
        Assert.Same(a[1], spend.CapsFor("aaaa")![1]);
        Assert.Equal((SpendWindow.Day, 1m), (a[1].Window, a[1].Limit));
        Assert.Equal(2, spend.ClientsTracked);
    }

    [Fact]
    public void ClientTable_BoundedByMaxClients()
    {
        var spend = new ProxySpend(Upstream(null, 1m), 3, new FakeTimeProvider(Noon));

        for (int i = 0; i < 50; i++)
        {
            spend.CapsFor($"client-{i}");
        }

        Assert.Equal(3, spend.ClientsTracked);
    }

    [Fact]
    public void Refusal_ByUpstreamCap_NamesCapLimitSpentAndMidnight()
    {
        var time = new FakeTimeProvider(Noon);
        var spend = new ProxySpend(Upstream(2m, null), 10, time);
        var caps = spend.CapsFor("abc")!;
        Assert.True(caps[0].TryReserve(1.9m, out var held));
        held.Settle(1.75m);

        var (cap, message) = spend.Refusal(caps, $"{ProxySpend.UpstreamCapName("openai")} reached: …", "gpt-4o-mini", 0.3m, AsOf);

        Assert.Equal("upstream", cap);
        Assert.Equal("sluice proxy: the daily spend cap of upstream 'openai' ($2.00 per UTC day) is reached: $1.75 spent and $0.00 reserved today, and this request may cost up to $0.30. It resets at 2026-12-06T00:00:00Z (UTC midnight).", message);
        Assert.Equal(1, spend.Refused);
    }

    [Fact]
    public void Refusal_ByClientCap_SaysYours_NoFingerprint()
    {
        var spend = new ProxySpend(Upstream(100m, 0.5m), 10, new FakeTimeProvider(Noon));
        var caps = spend.CapsFor("f1ngerpr1nt0000")!;
        Assert.True(caps[1].TryReserve(0.45m, out _));

        var (cap, message) = spend.Refusal(caps, $"{ProxySpend.ClientCapName("openai")} reached: …", "gpt-4o-mini", 0.1234m, AsOf);

        Assert.Equal("client", cap);
        Assert.StartsWith("sluice proxy: your daily spend cap at upstream 'openai' ($0.50 per client per UTC day) is reached: $0.00 spent and $0.45 reserved today, and this request may cost up to $0.1234.", message, StringComparison.Ordinal);
        Assert.DoesNotContain("f1ngerpr1nt", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Refusal_EngineNamesNoCap_TheOneWithoutRoom()
    {
        var spend = new ProxySpend(Upstream(100m, 0.5m), 10, new FakeTimeProvider(Noon));
        var caps = spend.CapsFor("c")!;
        Assert.True(caps[1].TryReserve(0.45m, out _));

        Assert.Equal("client", spend.Refusal(caps, null, "gpt-4o-mini", 0.1m, AsOf).Cap);
    }

    [Fact]
    public void Refusal_Unpriced_NamesModelAndPricesFile()
    {
        var spend = new ProxySpend(Upstream(1m, null), 10, new FakeTimeProvider(Noon));

        var (cap, message) = spend.Refusal(spend.CapsFor("c")!, "spend cap: model …", "house-model", null, AsOf);

        Assert.Equal("unpriced", cap);
        Assert.Equal("sluice proxy: upstream 'openai' has a spend cap, and model 'house-model' has no price in the price table (as of 2025-11-24), so its cost cannot be kept under the cap; add its price with a prices file (--prices FILE).", message);
    }

    [Fact]
    public void Spent_AddsCosts_ReservedFollowsTheUpstreamCap()
    {
        var spend = new ProxySpend(Upstream(5m, null), 10, new FakeTimeProvider(Noon));
        spend.Count(0.25m);
        spend.Count(0.5m);
        Assert.True(spend.UpstreamCap!.TryReserve(0.2m, out _));

        Assert.Equal(0.75m, spend.Spent);
        Assert.Equal(0.2m, spend.Reserved);
    }
}
