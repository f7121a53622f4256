using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sluice.Proxy.Tests;

public sealed class ProxyCacheDirectiveTests
{
    private static readonly ProxyUpstream Plain = new() { Name = "u", Url = new Uri("http://127.0.0.1:1") };
    private static readonly ProxyUpstream Caching = Plain with { Cache = true };
    private static readonly byte[] Cold = Encoding.UTF8.GetBytes("""{"model":"m","temperature":0,"messages":[]}""");
    private static readonly byte[] Warm = Encoding.UTF8.GetBytes("""{"model":"m","temperature":0.7,"messages":[]}""");
    private static readonly byte[] Default = Encoding.UTF8.GetBytes("""{"model":"m","messages":[]}""");
    private static readonly byte[] Several = Encoding.UTF8.GetBytes("""{"model":"m","temperature":0,"n":3,"messages":[]}""");

    [Theory]
    [InlineData(null, true)]
    [InlineData("use", true)]
    [InlineData("USE", true)]
    [InlineData(" off ", true)]
    [InlineData("maybe", false)]
    [InlineData("hit", false)]
    public void TryRead_OnlyUseAndOff(string? value, bool known)
    {
        var headers = new HeaderDictionary();
        if (value is not null)
        {
            headers["x-sluice-cache"] = value;
        }

        Assert.Equal(known, ProxyCacheDirective.TryRead(headers, out string? directive));
        if (known && value is not null)
        {
            Assert.Equal(value.Trim().ToLowerInvariant(), directive);
        }
    }

    [Fact]
    public void NotInPlay_WhenUpstreamDoesNotCacheAndRequestDidNotAsk() =>
        Assert.Equal(CacheUse.None, ProxyCacheDirective.Decide(Plain, cacheOpen: true, null, "POST", Cold));

    [Fact]
    public void UpstreamCaches_DeterministicPost_Used() =>
        Assert.Equal(CacheUse.Use, ProxyCacheDirective.Decide(Caching, cacheOpen: true, null, "POST", Cold));

    [Fact]
    public void RequestAsks_UpstreamDoesNot_Used() =>
        Assert.Equal(CacheUse.Use, ProxyCacheDirective.Decide(Plain, cacheOpen: true, "use", "POST", Cold));

    [Fact]
    public void Off_BypassesAnUpstreamThatCaches() =>
        Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Caching, cacheOpen: true, "off", "POST", Cold));

    [Fact]
    public void Off_OnAnUpstreamThatDoesNotCache_SaysBypass() =>
        Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Plain, cacheOpen: true, "off", "POST", Cold));

    [Fact]
    public void NotDeterministic_Bypassed_UnlessAnyTemperature()
    {
        foreach (var body in new[] { Warm, Default, Several })
        {
            Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Caching, cacheOpen: true, null, "POST", body));
            Assert.Equal(CacheUse.Use, ProxyCacheDirective.Decide(Caching with { CacheAnyTemperature = true }, cacheOpen: true, null, "POST", body));
        }
    }

    [Fact]
    public void NoCache_NotPost_NoBody_Bypassed()
    {
        Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Plain, cacheOpen: false, "use", "POST", Cold));
        Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Caching, cacheOpen: true, null, "GET", Cold));
        Assert.Equal(CacheUse.Bypass, ProxyCacheDirective.Decide(Caching, cacheOpen: true, null, "POST", []));
    }
}
